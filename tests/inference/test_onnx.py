"""ONNX export (`moda export onnx`) and the ONNX Runtime describer against PyTorch on the tiny trained MODA.

One export (fp32 + int8 + q4) per session: torch.onnx's dynamo exporter needs ~10 s per graph on 2 cores.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from modeling_moda.cli import main
from modeling_moda.inference.describer import load_describer
from modeling_moda.inference.generate import generate_descriptions
from modeling_moda.inference.onnx_runtime import GRAPHS, OnnxModa, graph_path, greedy_generate

from .inference_images import COLOURS, DESCRIPTIONS, colour_image

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
pytestmark = pytest.mark.slow

NAMES = list(COLOURS)


@pytest.fixture(scope="module")
def onnx_dir(trained_tiny_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "tiny-onnx"
    args = ["--model", str(trained_tiny_dir), "--out", str(out), "--quantize", "int8", "q4"]
    code = main(["export", "onnx", *args])
    assert code == 0
    return out


def test_export_writes_graphs_card_and_validation(onnx_dir):
    for graph in GRAPHS:
        assert graph_path(onnx_dir, graph, "fp32").is_file() and graph_path(onnx_dir, graph, "int8").is_file()
    for name in ("config.json", "generation_config.json", "tokenizer.json", "processor_config.json"):
        assert (onnx_dir / name).is_file(), name
    info = json.loads((onnx_dir / "onnx_export.json").read_text())
    assert info["validation"]["fp32"]["max_abs_logit_diff"] < 1e-4
    assert info["validation"]["fp32"]["greedy_argmax_agreement"] == 1.0
    assert "max abs logit diff" in (onnx_dir / "README.md").read_text()


def test_attention_takes_the_past_and_returns_the_present(onnx_dir):
    """`onnx_graph.attention_3d` ran: one 3-D `Attention` per layer, no head transposes, no cache concat."""
    import onnx

    info = json.loads((onnx_dir / "onnx_export.json").read_text())
    decoder = onnx.load(graph_path(onnx_dir, "decoder_model_merged"))
    attention = [n for n in decoder.graph.node if n.op_type == "Attention"]
    assert len(attention) == info["num_layers"]
    producers = {out: n.op_type for n in decoder.graph.node for out in n.output}
    presents = [o.name for o in decoder.graph.output if o.name.startswith("present.")]
    assert {producers[name] for name in presents} == {"Attention"}
    assert "Transpose" not in producers.values()
    vision = onnx.load(graph_path(onnx_dir, "vision_encoder"))
    assert all(
        any(a.name == "q_num_heads" for a in n.attribute)
        for n in vision.graph.node
        if n.op_type == "Attention"
    )


def test_prefill_and_cached_steps_equal_pytorch_logits(trained_tiny, onnx_dir):
    """Independent of the export's own check: a left-padded batch, prefill then two cached steps."""
    model, processor = trained_tiny
    images = [colour_image("red"), colour_image("blue")]
    inputs = processor(images=images, text=["", "A photo of"], return_tensors="pt")
    ids, mask = inputs["input_ids"].numpy(), inputs["attention_mask"].numpy()
    assert mask[0, 0] == 0  # the first row is left-padded
    onnx_model = OnnxModa(onnx_dir)
    embeds = onnx_model.prompt_embeds(
        ids, onnx_model.image_features(inputs["pixel_values"].numpy()), model.config.image_token_id
    )
    past = onnx_model.empty_past(2)
    logits, past = onnx_model.step(embeds, mask, past)
    steps = [logits]
    for token in ([5, 6], [7, 8]):
        tokens = np.array(token)
        ids = np.concatenate([ids, tokens[:, None]], axis=1)
        mask = np.concatenate([mask, np.ones((2, 1), dtype=mask.dtype)], axis=1)
        logits, past = onnx_model.step(onnx_model.embed_tokens(tokens[:, None]), mask, past)
        steps.append(logits)
    with torch.inference_mode():
        expected = model(
            input_ids=torch.from_numpy(ids),
            attention_mask=torch.from_numpy(mask),
            pixel_values=inputs["pixel_values"],
        ).logits.numpy()
    real = mask.astype(bool)
    assert np.abs(np.concatenate(steps, axis=1) - expected)[real].max() < 1e-4


def test_onnx_describe_equals_torch_and_streams(trained_tiny, onnx_dir):
    model, processor = trained_tiny
    images = [colour_image(n) for n in NAMES]
    describer = load_describer(str(onnx_dir), "onnxruntime", dtype="fp32")
    assert describer.max_new_tokens == model.generation_config.max_new_tokens
    deltas: dict[int, str] = {i: "" for i in range(len(images))}

    def on_text(i: int, delta: str) -> None:
        deltas[i] += delta

    texts = describer.describe(images, on_text=on_text)
    assert texts == generate_descriptions(model, processor, images, progress=False)
    assert texts == [DESCRIPTIONS[n] for n in NAMES]
    assert [deltas[i] for i in range(len(images))] == texts
    assert describer.describe(images[:1], max_new_tokens=3) == generate_descriptions(
        model, processor, images[:1], max_new_tokens=3, progress=False
    )


def test_onnx_describe_detailed_gives_torchs_attributes_and_confidences(trained_tiny, onnx_dir):
    """fp32: the same attributes, confidences within 1e-4, on clear images and red/blue blends."""
    from PIL import Image

    from modeling_moda.core.attributes import attribute_entries
    from modeling_moda.inference.describer import TorchDescriber

    blends = [Image.blend(colour_image("red"), colour_image("blue"), t) for t in (0.2, 0.3, 0.4, 0.5)]
    images = [colour_image(n) for n in NAMES] + blends
    torch_described = TorchDescriber(*trained_tiny, model_id="tiny").describe_detailed(images)
    onnx_described = load_describer(str(onnx_dir), "onnxruntime", dtype="fp32").describe_detailed(images)

    def entries(described):
        found = attribute_entries(described.attributes)
        return [(name, a["value"]) for name, a in found], [a["confidence"] for _, a in found]

    for ours, theirs in zip(onnx_described, torch_described, strict=True):
        assert ours.text == theirs.text
        (our_values, our_confidences), (values, confidences) = entries(ours), entries(theirs)
        assert our_values == values and len(values) >= 3
        assert np.allclose(our_confidences, confidences, atol=1e-4)


def test_left_padded_greedy_tokens_equal_generate(trained_tiny, onnx_dir):
    model, processor = trained_tiny
    inputs = processor(
        images=[colour_image("green"), colour_image("yellow")], text=["", "Describe:"], return_tensors="pt"
    )
    assert inputs["attention_mask"][0, 0] == 0
    tok = processor.tokenizer
    with torch.inference_mode():
        expected = model.generate(**inputs, max_new_tokens=12, pad_token_id=tok.pad_token_id)
    ours = greedy_generate(
        OnnxModa(onnx_dir),
        inputs["input_ids"].numpy(),
        inputs["attention_mask"].numpy(),
        inputs["pixel_values"].numpy(),
        image_token_id=model.config.image_token_id,
        eos_token_ids=[tok.eos_token_id],
        pad_token_id=tok.pad_token_id,
        max_new_tokens=12,
    )
    assert ours.tolist() == expected[:, inputs["input_ids"].shape[1] :].tolist()


@pytest.mark.parametrize("dtype", ["int8", "q4"])
def test_quantized_export_describes(onnx_dir, dtype):
    describer = load_describer(str(onnx_dir), "onnxruntime", dtype=dtype)
    assert describer.describe([colour_image(n) for n in NAMES]) == [DESCRIPTIONS[n] for n in NAMES]


def test_q4_decoder_is_4_bit_and_shares_the_int8_graphs(onnx_dir):
    import onnx

    decoder = onnx.load(graph_path(onnx_dir, "decoder_model_merged", "q4"))
    ops = {node.op_type for node in decoder.graph.node}
    assert "MatMulNBits" in ops and "Gemm" not in ops  # every linear, the 2-D ones included, is 4-bit
    assert graph_path(onnx_dir, "vision_encoder", "q4") == graph_path(onnx_dir, "vision_encoder", "int8")
    info = json.loads((onnx_dir / "onnx_export.json").read_text())
    assert set(info["validation"]) == {"fp32", "int8", "q4"}


def test_describe_cli_with_onnxruntime(onnx_dir, image_folder, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    code = main(
        ["describe", "--model", str(onnx_dir), "--runtime", "onnxruntime", str(image_folder)]
        + ["--format", "jsonl", "--out", str(out), "--no-progress"]
    )
    assert code == 0
    rows = {
        json.loads(line)["path"].rsplit("/", 1)[-1]: json.loads(line) for line in out.read_text().splitlines()
    }
    assert rows["red.jpg"]["description"] == DESCRIPTIONS["red"]
    assert rows["yellow.webp"]["description"] == DESCRIPTIONS["yellow"]


def test_missing_int8_graphs_error(trained_tiny_dir, onnx_dir, tmp_path):
    partial = tmp_path / "partial"
    (partial / "onnx").mkdir(parents=True)
    for graph in GRAPHS:
        (partial / "onnx" / f"{graph}.onnx").write_bytes(graph_path(onnx_dir, graph).read_bytes())
    with pytest.raises(FileNotFoundError, match="--quantize int8"):
        OnnxModa(partial, dtype="int8")
    with pytest.raises(ValueError, match="unknown ONNX dtype"):
        OnnxModa(onnx_dir, dtype="bf16")
