"""Run a `moda export onnx` folder with ONNX Runtime: the same `describe` as the PyTorch describer.

Three graphs, the split transformers.js and optimum use for vision-language decoders:
    vision_encoder        pixel_values [B, 3, H, W]            -> image_embeds [B, N, D]
    embed_tokens          input_ids [B, T]                     -> inputs_embeds [B, T, D]
    decoder_model_merged  inputs_embeds [B, T, D], attention_mask [B, P + T],
                          past_key_values.{i}.key/value [B, H, P, Dh]
                                                               -> logits [B, T, V], present.{i}.key/value
The decoder is one graph for the first step (P = 0) and every later one. The greedy loop below mirrors
`GenerationMixin`'s: left-padded prompts, the image embeddings written into the `<image>` positions, each
finished row continued with padding until every row is done.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image
from transformers import AutoProcessor, GenerationConfig

from modeling_moda.builder import DEFAULT_MAX_NEW_TOKENS
from modeling_moda.inference.attributes import Described, attribute_token_sets, described_rows, step_scores
from modeling_moda.inference.batch_inputs import batch_inputs
from modeling_moda.inference.streaming import OnText, TextDeltas, eos_token_ids

ONNX_SUBDIR = "onnx"
GRAPHS = ("vision_encoder", "embed_tokens", "decoder_model_merged")
# dtype -> the file suffix of each graph (transformers.js naming: onnx/<graph><suffix>.onnx). q4 is 4-bit
# weights for the decoder only: it reads half the bytes of int8 per token (batch-1 latency is memory-bound),
# while the vision graph runs slower in 4 bits than in int8 (measured: recipes/benchmark_inference.py)
GRAPH_SUFFIXES = {
    "fp32": dict.fromkeys(GRAPHS, ""),
    "int8": dict.fromkeys(GRAPHS, "_int8"),
    "q4": {"vision_encoder": "_int8", "embed_tokens": "_int8", "decoder_model_merged": "_q4"},
}
EXPORT_INFO = "onnx_export.json"


def graph_path(export_dir: str | Path, graph: str, dtype: str = "fp32") -> Path:
    if dtype not in GRAPH_SUFFIXES:
        raise ValueError(f"unknown ONNX dtype {dtype!r}; expected one of {', '.join(GRAPH_SUFFIXES)}")
    return Path(export_dir) / ONNX_SUBDIR / f"{graph}{GRAPH_SUFFIXES[dtype][graph]}.onnx"


class OnnxModa:
    """The three ONNX Runtime sessions of one export, and the steps of generation on numpy arrays."""

    def __init__(self, export_dir: str | Path, dtype: str = "fp32", num_threads: int | None = None):
        paths = [graph_path(export_dir, g, dtype) for g in GRAPHS]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            hint = f" (export with --quantize {dtype})" if dtype != "fp32" else ""
            raise FileNotFoundError(f"{export_dir}: not a complete ONNX export, missing {missing}{hint}")
        options = ort.SessionOptions()
        # no arena: activations go back to the OS after each call (batch-16 peak RSS -100 MB, same speed)
        options.enable_cpu_mem_arena = False
        if num_threads:
            options.intra_op_num_threads = num_threads
        providers = ["CPUExecutionProvider"]
        self.vision, self.embed, self.decoder = (
            ort.InferenceSession(str(p), options, providers=providers) for p in paths
        )
        # the cache layout comes from the graph itself: past_key_values.{i}.key [batch, H, past, Dh]
        self.past_inputs = [i for i in self.decoder.get_inputs() if i.name.startswith("past_key_values.")]
        self.present_names = [o.name for o in self.decoder.get_outputs()[1:]]

    def image_features(self, pixel_values: np.ndarray) -> np.ndarray:
        return self.vision.run(None, {"pixel_values": pixel_values.astype(np.float32)})[0]  # [B, N, D]

    def embed_tokens(self, input_ids: np.ndarray) -> np.ndarray:
        return self.embed.run(None, {"input_ids": input_ids.astype(np.int64)})[0]  # [B, T, D]

    def prompt_embeds(
        self, input_ids: np.ndarray, image_features: np.ndarray, image_token_id: int
    ) -> np.ndarray:
        """Token embeddings [B, T, D] with the image features written into the `<image>` positions."""
        embeds = self.embed_tokens(input_ids)
        is_image = input_ids == image_token_id  # [B, T]
        if is_image.sum() != image_features.shape[0] * image_features.shape[1]:
            raise ValueError(
                f"{int(is_image.sum())} <image> tokens for {image_features.shape[0]} image(s) of "
                f"{image_features.shape[1]} token(s) each"
            )
        embeds[is_image] = image_features.reshape(-1, embeds.shape[-1]).astype(embeds.dtype)
        return embeds

    def empty_past(self, batch: int) -> dict[str, ort.OrtValue]:
        return {
            i.name: ort.OrtValue.ortvalue_from_numpy(np.zeros((batch, i.shape[1], 0, i.shape[3]), np.float32))
            for i in self.past_inputs
        }

    def step(
        self, inputs_embeds: np.ndarray, attention_mask: np.ndarray, past: dict[str, ort.OrtValue]
    ) -> tuple[np.ndarray, dict[str, ort.OrtValue]]:
        """One decoder call: (logits [B, T, V], the cache for the next call). The cache stays in ONNX
        Runtime's memory between calls (I/O binding): only the logits are copied out."""
        binding = self.decoder.io_binding()
        binding.bind_cpu_input("inputs_embeds", np.ascontiguousarray(inputs_embeds, dtype=np.float32))
        binding.bind_cpu_input("attention_mask", np.ascontiguousarray(attention_mask, dtype=np.int64))
        for name, value in past.items():
            binding.bind_ortvalue_input(name, value)
        binding.bind_output("logits")
        for name in self.present_names:
            binding.bind_output(name)
        self.decoder.run_with_iobinding(binding)
        logits, *present = binding.get_outputs()
        return logits.numpy(), {i.name: p for i, p in zip(self.past_inputs, present, strict=True)}


def greedy_generate(
    model: OnnxModa,
    input_ids: np.ndarray,
    attention_mask: np.ndarray,
    pixel_values: np.ndarray,
    *,
    image_token_id: int,
    eos_token_ids: Sequence[int],
    pad_token_id: int,
    max_new_tokens: int,
    min_new_tokens: int = 0,
    on_step: Callable[[np.ndarray], None] | None = None,
    on_scores: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> np.ndarray:
    """New token ids [B, <= max_new_tokens] for left-padded prompts; `on_step` gets each step's [B] ids,
    `on_scores` each step's scores [B, V] (after the EOS mask of `min_new_tokens`) and chosen ids [B]."""
    batch = input_ids.shape[0]
    embeds = model.prompt_embeds(input_ids, model.image_features(pixel_values), image_token_id)
    mask = attention_mask.astype(np.int64)
    past = model.empty_past(batch)
    eos = np.asarray(list(eos_token_ids), dtype=np.int64)
    finished = np.zeros(batch, dtype=bool)
    new_tokens = []
    for step in range(max_new_tokens):
        logits, past = model.step(embeds, mask, past)
        scores = logits[:, -1, :]  # [B, V]
        if step < min_new_tokens:
            scores = scores.copy()
            scores[:, eos] = -np.inf
        tokens = np.where(finished, pad_token_id, scores.argmax(-1))  # [B]
        new_tokens.append(tokens)
        if on_scores is not None:
            on_scores(scores, tokens)
        if on_step is not None:
            on_step(tokens)
        finished |= np.isin(tokens, eos)
        if finished.all():
            break
        embeds = model.embed_tokens(tokens[:, None])  # [B, 1, D]
        mask = np.concatenate([mask, np.ones((batch, 1), dtype=np.int64)], axis=1)
    return np.stack(new_tokens, axis=1) if new_tokens else np.zeros((batch, 0), dtype=np.int64)


class OnnxDescriber:
    """`describe` on an ONNX export (see `describer.load_describer(dir, runtime="onnxruntime")`)."""

    def __init__(self, export_dir: str | Path, dtype: str = "fp32", num_threads: int | None = None):
        export_dir = Path(export_dir)
        self.model = OnnxModa(export_dir, dtype=dtype, num_threads=num_threads)
        self.num_threads = num_threads
        # the export carries the model's remote code: its processor loads as the PyTorch path's does
        self.processor = AutoProcessor.from_pretrained(export_dir, trust_remote_code=True)
        info = (
            json.loads((export_dir / EXPORT_INFO).read_text()) if (export_dir / EXPORT_INFO).is_file() else {}
        )
        self.model_id = info.get("source_model", str(export_dir))
        self.image_token_id = self.processor.image_token_id
        tokenizer = self.processor.tokenizer
        config = GenerationConfig()
        if (export_dir / "generation_config.json").is_file():
            config = GenerationConfig.from_pretrained(export_dir)
        self.eos_token_ids = eos_token_ids(config, tokenizer)
        pad = config.pad_token_id if config.pad_token_id is not None else tokenizer.pad_token_id
        self.pad_token_id = pad if pad is not None else self.eos_token_ids[0]
        self.max_new_tokens = config.max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        self._lock = threading.Lock()
        self._token_sets: dict[str, list[int]] | None = None  # attributes.attribute_token_sets, on first use

    def generate_ids(
        self,
        images: Sequence[Image.Image],
        *,
        max_new_tokens: int | None = None,
        prompt: str | None = None,
        min_new_tokens: int = 0,
        on_step: Callable[[np.ndarray], None] | None = None,
        on_scores: Callable[[np.ndarray, np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """New token ids [B, T_new] (rows that finished early are padded)."""
        prompts = [prompt or ""] * len(images)
        inputs = batch_inputs(
            self.processor, images, prompts, num_threads=self.num_threads, return_tensors="np"
        )
        with self._lock:
            return greedy_generate(
                self.model,
                inputs["input_ids"],
                inputs["attention_mask"],
                inputs["pixel_values"],
                image_token_id=self.image_token_id,
                eos_token_ids=self.eos_token_ids,
                pad_token_id=self.pad_token_id,
                max_new_tokens=max_new_tokens or self.max_new_tokens,
                min_new_tokens=min_new_tokens,
                on_step=on_step,
                on_scores=on_scores,
            )

    def describe(
        self,
        images: Sequence[Image.Image],
        *,
        max_new_tokens: int | None = None,
        prompt: str | None = None,
        on_text: OnText | None = None,
    ) -> list[str]:
        if not images:
            return []
        ids = self._generate_streamed(images, max_new_tokens, prompt, on_text)
        texts = self.processor.batch_decode(ids, skip_special_tokens=True)
        return [t.strip() for t in texts]

    def describe_detailed(
        self,
        images: Sequence[Image.Image],
        *,
        max_new_tokens: int | None = None,
        prompt: str | None = None,
        on_text: OnText | None = None,
    ) -> list[Described]:
        """`describe`, each text with its attributes and their confidence (`attributes.Described`)."""
        if not images:
            return []
        tokenizer = self.processor.tokenizer
        token_sets = self._token_sets = self._token_sets or attribute_token_sets(tokenizer)
        steps: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []

        def keep(scores: np.ndarray, tokens: np.ndarray) -> None:
            steps.append(step_scores(scores, tokens, token_sets))

        ids = self._generate_streamed(images, max_new_tokens, prompt, on_text, keep)
        return described_rows(tokenizer, ids, steps, self.eos_token_ids)

    def _generate_streamed(self, images, max_new_tokens, prompt, on_text, on_scores=None) -> np.ndarray:
        deltas = None
        if on_text is not None:
            deltas = TextDeltas(self.processor.tokenizer, len(images), self.eos_token_ids, on_text)
        ids = self.generate_ids(
            images,
            max_new_tokens=max_new_tokens,
            prompt=prompt,
            on_step=None if deltas is None else deltas.push,
            on_scores=on_scores,
        )
        if deltas is not None:
            deltas.finish()
        return ids
