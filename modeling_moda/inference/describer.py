"""One `describe` API over every runtime: PyTorch (fp32 / bf16 / int8) and ONNX Runtime (fp32 / int8).

    describer = load_describer("runs/quickstart/model", runtime="torch", dtype="int8")
    describer.describe([image], on_text=lambda i, delta: print(i, delta))

`describe` generates greedily for a batch of images and returns one description per image; with
`on_text`, each row's text also arrives piece by piece while the batch generates (for streaming servers).
`describe_detailed` returns each description with its attributes and their confidence
(`attributes.Described`: colour, article type, gender, usage, read with the judge's lexicon, scored by the
model's token probabilities).
A describer serializes its calls with a lock, so threads may share one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

from PIL import Image

from modeling_moda.builder import DEFAULT_MAX_NEW_TOKENS
from modeling_moda.inference.attributes import Described, attribute_token_sets, described_rows
from modeling_moda.inference.generate import describe_batch, generate_scored
from modeling_moda.inference.runtime import load_for_inference, set_threads
from modeling_moda.inference.streaming import BatchTextStreamer, OnText, TextDeltas, eos_token_ids

RUNTIMES = ("torch", "onnxruntime")
# describer dtype -> (torch dtype name, quantization) for load_for_inference
TORCH_DTYPES = {
    "fp32": ("float32", None),
    "int8": ("float32", "int8"),
    "bf16": ("bfloat16", None),
    "fp16": ("float16", None),
    "auto": ("auto", None),
}


class Describer(Protocol):
    model_id: str
    max_new_tokens: int
    processor: Any  # its `load_image` and tokenizer

    def describe(
        self,
        images: Sequence[Image.Image],
        *,
        max_new_tokens: int | None = None,
        prompt: str | None = None,
        on_text: OnText | None = None,
    ) -> list[str]: ...

    def describe_detailed(
        self,
        images: Sequence[Image.Image],
        *,
        max_new_tokens: int | None = None,
        prompt: str | None = None,
        on_text: OnText | None = None,
    ) -> list[Described]:
        """`describe`, each text with its attributes and their confidence (`attributes.Described`)."""
        ...


class TorchDescriber:
    """A MODA in PyTorch behind `describe`; generation is `generate.describe_batch`."""

    def __init__(self, model: Any, processor: Any, model_id: str):
        self.model = model
        self.processor = processor
        self.model_id = model_id
        self.max_new_tokens = model.generation_config.max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        self._lock = threading.Lock()
        self._token_sets: dict[str, list[int]] | None = None  # attributes.attribute_token_sets, on first use

    def describe(
        self,
        images: Sequence[Image.Image],
        *,
        max_new_tokens: int | None = None,
        prompt: str | None = None,
        on_text: OnText | None = None,
    ) -> list[str]:
        with self._lock:
            return describe_batch(
                self.model,
                self.processor,
                list(images),
                max_new_tokens=max_new_tokens or self.max_new_tokens,
                prompt=prompt,
                streamer=self._streamer(len(images), on_text),
            )

    def describe_detailed(
        self,
        images: Sequence[Image.Image],
        *,
        max_new_tokens: int | None = None,
        prompt: str | None = None,
        on_text: OnText | None = None,
    ) -> list[Described]:
        if not images:
            return []
        tokenizer = self.processor.tokenizer
        with self._lock:
            if self._token_sets is None:
                self._token_sets = attribute_token_sets(tokenizer)
            ids, steps = generate_scored(
                self.model,
                self.processor,
                list(images),
                self._token_sets,
                max_new_tokens=max_new_tokens or self.max_new_tokens,
                prompt=prompt,
                streamer=self._streamer(len(images), on_text),
            )
        return described_rows(tokenizer, ids, steps, eos_token_ids(self.model.generation_config, tokenizer))

    def _streamer(self, batch_size: int, on_text: OnText | None) -> BatchTextStreamer | None:
        if on_text is None or not batch_size:
            return None
        tokenizer = self.processor.tokenizer
        eos = eos_token_ids(self.model.generation_config, tokenizer)
        return BatchTextStreamer(TextDeltas(tokenizer, batch_size, eos, on_text))


def load_describer(
    model_dir: str,
    runtime: str = "torch",
    *,
    dtype: str = "fp32",
    num_threads: int | None = None,
    device: str = "cpu",
) -> Describer:
    """A describer for a saved MODA folder (`runtime="torch"`) or a `moda export onnx` folder
    (`runtime="onnxruntime"`). `dtype`: fp32 or int8 (both runtimes); q4 (onnxruntime); bf16, fp16, auto
    (torch)."""
    if runtime == "onnxruntime":
        from modeling_moda.inference.onnx_runtime import OnnxDescriber  # onnxruntime is an optional extra

        return OnnxDescriber(model_dir, dtype="fp32" if dtype == "auto" else dtype, num_threads=num_threads)
    if runtime != "torch":
        raise ValueError(f"unknown runtime {runtime!r}; expected one of {', '.join(RUNTIMES)}")
    if dtype not in TORCH_DTYPES:
        hint = " (q4 is an ONNX export's 4-bit decoder: `moda export onnx --quantize q4`, onnxruntime)"
        raise ValueError(
            f"unknown dtype {dtype!r} for the torch runtime; expected one of {', '.join(TORCH_DTYPES)}"
            + (hint if dtype == "q4" else "")
        )
    set_threads(num_threads)
    torch_dtype, quantize = TORCH_DTYPES[dtype]
    model, processor = load_for_inference(model_dir, device=device, dtype=torch_dtype, quantize=quantize)
    return TorchDescriber(model, processor, model_id=str(model_dir))
