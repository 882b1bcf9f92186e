"""Export a saved MODA to ONNX: a vision graph, an embedding graph and a merged decoder with past.

The split is the one transformers.js and optimum use for vision-language decoders (graph layout in
`onnx_runtime`); the export runs in ONNX Runtime from Python (`OnnxDescriber`). A browser runtime must
support opset 23's `Attention` op (not checked here).
Exporter: `torch.onnx.export(dynamo=True)` (torch.export-based; the TorchScript exporter is deprecated since
torch 2.9). optimum's exporter is not used: it rejects unknown architectures unless given a hand-written
ONNX config per model family, while these three wrappers cover any `get_image_features` + causal LM.
Opset 23 is the first with a fused `Attention` op: the exporter then writes one node per attention layer
instead of ~12 (MatMul, the key Transpose, Softmax, masking). Measured on the seed shape, int8, 2 cores:
vision graph for 16 images 532 -> 280 ms, batch-16 decoder step 23.5 -> 14.8 ms, batch-1 7.9 -> 6.2 ms.
`onnx_graph.attention_3d` then folds the head split/merge and the cache concatenation into that op.

The decoder wrapper takes the cache as flat tensors and builds a `DynamicCache` inside, so the same graph
runs the first step (empty past) and every later step. Position ids come from the attention mask inside
the graph, as `ModaForConditionalGeneration.forward` computes them, so left padding shifts nothing.
Every export is validated: greedy steps through ONNX Runtime against the PyTorch model's logits.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.export import Dim
from transformers import DynamicCache

from modeling_moda.core.io import atomic_path, write_json, write_text
from modeling_moda.inference.onnx_graph import attention_3d, gemm_as_matmul
from modeling_moda.inference.onnx_runtime import EXPORT_INFO, GRAPH_SUFFIXES, GRAPHS, OnnxModa, graph_path
from modeling_moda.inference.runtime import load_for_inference

OPSET = 23
VALIDATION_STEPS = 4
VALIDATION_PROMPTS = ("", "Describe the product:")  # different lengths: the first row is left-padded


class VisionGraph(nn.Module):
    """pixel_values [B, 3, H, W] -> image embeddings [B, N, D]: encoder + projector in one graph."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.get_image_features(pixel_values=pixel_values).pooler_output


class EmbedGraph(nn.Module):
    """input_ids [B, T] -> inputs_embeds [B, T, D] (the LM's token embedding)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.embed = model.get_input_embeddings()

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed(input_ids)


class DecoderGraph(nn.Module):
    """(inputs_embeds, attention_mask, *past) -> (logits, *present) with flat per-layer key/value tensors."""

    def __init__(self, model: nn.Module, num_layers: int):
        super().__init__()
        self.model = model
        self.num_layers = num_layers

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor, *past: torch.Tensor):
        cache = DynamicCache([(past[2 * i], past[2 * i + 1]) for i in range(self.num_layers)])
        position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)[:, -inputs_embeds.shape[1] :]
        out = self.model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache,
            use_cache=True,
        )
        present = [t for keys, values, *_ in out.cache for t in (keys, values)]
        return (out.logits, *present)  # logits [B, T, V]; present.{i}.key/value [B, H, P + T, Dh]


def cache_shapes(language_model: nn.Module, width: int) -> list[tuple[int, int]]:
    """(heads, head_dim) of each layer's cache, read from one tiny forward (covers GQA and MQA LMs)."""
    with torch.inference_mode():
        out = language_model(inputs_embeds=torch.zeros(1, 2, width), use_cache=True)
    shapes = [(keys.shape[1], keys.shape[3]) for keys, _, *_ in out.cache]
    for keys, values, *_ in out.cache:
        if keys.shape[2] != 2 or values.shape[2] != 2:
            raise ValueError("the language model's cache is not a plain per-layer key/value cache")
    return shapes


def _save(program: Any, path: Path) -> None:
    import onnx

    model = program.model_proto
    attention_3d(model)
    with atomic_path(path) as tmp:
        onnx.save(model, tmp)


def _export(module: nn.Module, args: tuple, path: Path, names: list[str], outputs: list[str], shapes) -> None:
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer chatter about constants it folds
        program = torch.onnx.export(
            module,
            args,
            input_names=names,
            output_names=outputs,
            dynamic_shapes=shapes,
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    _save(program, path)


def export_graphs(model: nn.Module, processor: Any, out_dir: Path) -> int:
    """Write the three fp32 graphs under out_dir/onnx; returns the LM's layer count."""
    batch, seq, past, total = Dim.DYNAMIC, Dim.DYNAMIC, Dim.DYNAMIC, Dim.DYNAMIC
    crop = processor.image_processor.crop_size
    pixels = torch.randn(2, 3, crop["height"], crop["width"])
    _export(
        VisionGraph(model).eval(),
        (pixels,),
        graph_path(out_dir, "vision_encoder"),
        ["pixel_values"],
        ["image_embeds"],
        {"pixel_values": {0: batch}},
    )
    ids = torch.full((2, 5), processor.tokenizer.pad_token_id or 0, dtype=torch.long)
    _export(
        EmbedGraph(model).eval(),
        (ids,),
        graph_path(out_dir, "embed_tokens"),
        ["input_ids"],
        ["inputs_embeds"],
        {"input_ids": {0: batch, 1: seq}},
    )
    width = model.get_input_embeddings().embedding_dim
    layers = cache_shapes(model.language_model, width)
    p, t = 4, 3  # trace with a non-empty past and a padded row, so neither case is specialized away
    mask = torch.ones(2, p + t, dtype=torch.long)
    mask[0, :2] = 0
    flat_past = [torch.randn(2, heads, p, head_dim) for heads, head_dim in layers for _ in range(2)]
    past_names = [f"past_key_values.{i}.{kv}" for i in range(len(layers)) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(len(layers)) for kv in ("key", "value")]
    _export(
        DecoderGraph(model, len(layers)).eval(),
        (torch.randn(2, t, width), mask, *flat_past),
        graph_path(out_dir, "decoder_model_merged"),
        ["inputs_embeds", "attention_mask", *past_names],
        ["logits", *present_names],
        {
            "inputs_embeds": {0: batch, 1: seq},
            "attention_mask": {0: batch, 1: total},
            "past": tuple({0: batch, 2: past} for _ in flat_past),
        },
    )
    return len(layers)


QUANTIZATIONS = ("int8", "q4")
Q4_BLOCK_SIZE = 128  # seed shape: 3.9 ms per batch-1 decoder step, 4.9 ms with blocks of 32
Q4_ACCURACY_LEVEL = 4  # int8 compute on the 4-bit weights (VNNI); level 0 (fp32 compute) is 2.8x slower


def quantize_graph(source: Path, target: Path, dtype: str) -> None:
    """int8: dynamic quantization (int8 weights, activations quantized per call). q4: 4-bit weights in
    blocks (`MatMulNBits`)."""
    with atomic_path(target) as tmp:
        if dtype == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # not every op type: the quantizer would turn the standard `Attention` op into the
            # contrib `QAttention`, whose attributes differ (the graph then fails to load)
            op_types = ["MatMul", "Gemm", "Gather"]
            quantize_dynamic(source, tmp, weight_type=QuantType.QInt8, op_types_to_quantize=op_types)
            return
        import onnx
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        model = onnx.load(source)
        gemm_as_matmul(model)
        quantizer = MatMulNBitsQuantizer(
            model, bits=4, block_size=Q4_BLOCK_SIZE, is_symmetric=True, accuracy_level=Q4_ACCURACY_LEVEL
        )
        quantizer.process()
        quantizer.model.save_model_to_file(str(tmp), use_external_data_format=False)


def quantize_graphs(out_dir: Path, dtypes: list[str]) -> None:
    """Write the quantized graph files the given dtypes read; a file's suffix names its quantization
    (`_int8`, `_q4`), and q4 reads the int8 vision and embedding graphs."""
    files = {(graph, GRAPH_SUFFIXES[dtype][graph]) for dtype in dtypes for graph in GRAPHS}
    for graph, suffix in sorted(files):
        target = graph_path(out_dir, graph).with_name(f"{graph}{suffix}.onnx")
        quantize_graph(graph_path(out_dir, graph), target, suffix.removeprefix("_"))


def validation_images(size: tuple[int, int]) -> list:
    """Two different product-like images (a red garment on white, a blue one on grey)."""
    from PIL import Image, ImageDraw

    images = []
    for fill, background in (((180, 30, 40), "white"), ((30, 60, 170), (200, 200, 200))):
        image = Image.new("RGB", size, background)
        w, h = size
        ImageDraw.Draw(image).rectangle([w // 4, h // 5, 3 * w // 4, 4 * h // 5], fill=fill)
        images.append(image)
    return images


@torch.inference_mode()
def validate(
    model: nn.Module, processor: Any, out_dir: Path, dtype: str, steps: int = VALIDATION_STEPS
) -> dict:
    """Greedy steps through ONNX Runtime (prefill with empty past, then cached steps) on a left-padded
    batch; max |logit difference| against the fp32 PyTorch model over every non-padding position."""
    inputs = processor(
        images=validation_images((96, 128)), text=list(VALIDATION_PROMPTS), return_tensors="pt"
    )
    ids, mask, pixels = (inputs[k].numpy() for k in ("input_ids", "attention_mask", "pixel_values"))
    onnx_model = OnnxModa(out_dir, dtype=dtype)
    embeds = onnx_model.prompt_embeds(ids, onnx_model.image_features(pixels), model.config.image_token_id)
    past = onnx_model.empty_past(ids.shape[0])
    step_logits = []
    for step in range(steps + 1):
        logits, past = onnx_model.step(embeds, mask, past)
        step_logits.append(logits)
        if step == steps:
            break
        tokens = logits[:, -1].argmax(-1)  # [B]
        ids = np.concatenate([ids, tokens[:, None]], axis=1)
        mask = np.concatenate([mask, np.ones_like(tokens)[:, None]], axis=1)
        embeds = onnx_model.embed_tokens(tokens[:, None])
    onnx_logits = np.concatenate(step_logits, axis=1)  # [B, T0 + steps, V]
    torch_logits = (
        model(
            input_ids=torch.from_numpy(ids),
            attention_mask=torch.from_numpy(mask),
            pixel_values=inputs["pixel_values"],
        )
        .logits.float()
        .numpy()
    )
    real = mask.astype(bool)  # padding positions' logits are unused (and implementation-defined)
    diff = np.abs(onnx_logits - torch_logits)[real]
    return {
        "max_abs_logit_diff": float(diff.max()),
        "greedy_argmax_agreement": float((onnx_logits.argmax(-1) == torch_logits.argmax(-1))[real].mean()),
        "positions": int(real.sum()),
        "decode_steps": steps,
    }


GRAPH_TABLE = """| file | inputs -> outputs |
|---|---|
| `onnx/vision_encoder.onnx` | `pixel_values` [B, 3, H, W] -> `image_embeds` [B, N, D] (encoder + projector) |
| `onnx/embed_tokens.onnx` | `input_ids` [B, T] -> `inputs_embeds` [B, T, D] |
| `onnx/decoder_model_merged.onnx` | `inputs_embeds` [B, T, D], `attention_mask` [B, P + T],
`past_key_values.{i}.key/value` [B, H, P, Dh] -> `logits` [B, T, V], `present.{i}.key/value` |"""


def model_card(info: dict) -> str:
    rows = "\n".join(
        f"| {dtype} | {v['max_abs_logit_diff']:.3g} | {v['greedy_argmax_agreement']:.1%} |"
        for dtype, v in info["validation"].items()
    )
    name = info["export_dir_name"]
    return f"""# MODA, ONNX export

ONNX graphs of `{info["source_model"]}` for ONNX Runtime, in the split transformers.js and optimum use
(N = {info["num_image_tokens"]} image token(s)), opset {info["opset"]}: attention is the standard `Attention`
op, which ONNX Runtime runs on CPU from version 1.23:

{GRAPH_TABLE}

Files ending in `_int8` are dynamically quantized (int8 weights); `decoder_model_merged_q4.onnx` holds
4-bit block-quantized weights (`MatMulNBits`, blocks of {Q4_BLOCK_SIZE}) and runs with the int8 vision and
embedding graphs (dtype `q4`): the fastest for one image at a time. The image embeddings replace the
`<image>` token(s) (id {info["image_token_id"]}) in the embedded prompt. The decoder runs the first step
with an empty past (P = 0) and computes position ids from the attention mask: pad prompts on the left.
The tokenizer, processor, config and generation config beside the graphs are the source model's.

```python
from modeling_moda.inference.describer import load_describer
describer = load_describer("{name}", runtime="onnxruntime", dtype="fp32")  # or "int8", "q4"
print(describer.describe([image]))
```
or `moda describe --model {name} --runtime onnxruntime photos/`.

## Validation (at export)
{info["validation_steps"]} greedy steps on two left-padded prompts, ONNX Runtime against the fp32
PyTorch model, over every non-padding position (exporter: `torch.onnx.export(dynamo=True)`,
opset {info["opset"]}):

| graphs | max abs logit diff | argmax agreement |
|---|---|---|
{rows}
"""


def export_onnx(model_dir: str, out_dir: str, quantize: Sequence[str] = ()) -> dict:
    """Export `model_dir` (a saved MODA) to `out_dir` in fp32 and the `quantize` dtypes (int8, q4); returns
    the export info written to onnx_export.json."""
    unknown = [q for q in quantize if q not in QUANTIZATIONS]
    if unknown:
        raise ValueError(f"unknown quantization {unknown[0]!r}; expected {' or '.join(QUANTIZATIONS)}")
    out = Path(out_dir)
    model, processor = load_for_inference(model_dir, device="cpu", dtype="float32")
    num_layers = export_graphs(model, processor, out)
    dtypes = ["fp32", *dict.fromkeys(quantize)]
    quantize_graphs(out, dtypes[1:])
    processor.save_pretrained(out)
    model.config.save_pretrained(out)
    model.generation_config.save_pretrained(out)
    for code in Path(model_dir).glob(
        "*.py"
    ):  # the remote code, so the folder also loads with the Auto classes
        shutil.copy2(code, out / code.name)
    info = {
        "source_model": str(model_dir),
        "export_dir_name": out.name,
        "exporter": "torch.onnx.export(dynamo=True)",
        "opset": OPSET,
        "torch": torch.__version__,
        "graphs": {g: {d: str(graph_path(out, g, d).relative_to(out)) for d in dtypes} for g in GRAPHS},
        "source_parameters": model.num_parameters(),
        "num_layers": num_layers,
        "image_token_id": model.config.image_token_id,
        "num_image_tokens": model.config.num_image_tokens,
        "validation_steps": VALIDATION_STEPS,
        "validation": {d: validate(model, processor, out, d) for d in dtypes},
    }
    write_json(out / EXPORT_INFO, info)
    write_text(out / "README.md", model_card(info))
    return info
