"""Builders and the `moda init` / `moda info` verbs: reference shapes, pretrained backbones from folders."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import CLIPModel, OPTConfig, OPTForCausalLM

from modeling_moda.builder import build_moda, build_reference_config, parameter_counts, train_tokenizer
from modeling_moda.cli import main
from modeling_moda.cli.info import model_info
from modeling_moda.modeling_moda import ModaForConditionalGeneration

from .conftest import make_images


def test_reference_config_parameter_count(capsys):
    config = build_reference_config()
    assert config.vision_config.projection_dim == 512 and config.text_config.hidden_size == 768
    info = model_info(config)
    assert list(info)[0] == "classes" and "AutoModelForImageTextToText" in info["classes"]["generate"]
    assert info["projector"]["shapes"] == "512 -> 3072 -> 768" and info["projector"]["activation"] == "gelu"
    counts = info["parameters"]
    assert counts["vision_tower"] == 87_456_000  # CLIP ViT-B/32 image tower
    assert counts["visual_projection"] == 393_216  # 768 x 512
    assert counts["projector"] == 3_936_000  # 512*3072 + 3072 + 3072*768 + 768
    assert counts["language_model"] == 125_239_296  # OPT-125M (lm_head tied), <image> fits its 50272 rows
    assert counts["total"] == 217_024_512
    assert counts["frozen"] == 87_849_216 and counts["trainable"] == 129_175_296
    # the seed's "~280 M" counted the whole FashionCLIP, text tower included
    assert counts["clip_text_tower_not_in_moda"] == 63_428_097
    assert counts["total_with_clip_text_tower"] == 280_452_609

    assert main(["info", "--reference"]) == 0
    assert "217,024,512" in capsys.readouterr().out


def _save_tiny_opt(folder: Path) -> OPTForCausalLM:
    """A tiny OPT language model with a trained tokenizer, saved as a pretrained folder."""
    tokenizer = train_tokenizer(vocab_size=300)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    lm = OPTForCausalLM(
        OPTConfig(
            vocab_size=300,
            hidden_size=32,
            word_embed_proj_dim=32,
            ffn_dim=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=64,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=1,
        )  # fmt: skip
    )
    lm.save_pretrained(folder)
    return lm


def test_build_moda_from_pretrained_folders(tiny_clip_dir, tmp_path):
    lm = _save_tiny_opt(tmp_path / "lm")

    model, processor = build_moda(str(tiny_clip_dir), str(tmp_path / "lm"), projector_type="linear")
    clip = CLIPModel.from_pretrained(tiny_clip_dir)
    assert torch.equal(model.visual_projection.weight, clip.visual_projection.weight)
    assert torch.equal(model.vision_tower.embeddings.patch_embedding.weight,
                       clip.vision_model.embeddings.patch_embedding.weight)  # fmt: skip
    assert torch.equal(model.lm_head.weight[:300], lm.lm_head.weight[:300])
    assert model.get_input_embeddings().num_embeddings >= len(processor.tokenizer)
    assert model.config.image_token_id == processor.image_token_id
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    batch = processor(images=make_images(2), suffix=["A red dress.", "Black shoes."])
    assert torch.isfinite(model(**batch).loss)


def test_cli_init_and_info(tiny_clip_dir, tmp_path, capsys):
    out = tmp_path / "tiny"
    flags = ["--num-image-tokens", "2", "--projector-type", "linear", "--no-freeze-vision"]
    assert main(["init", "--tiny", "--out", str(out), *flags]) == 0
    model = ModaForConditionalGeneration.from_pretrained(out)
    assert model.config.num_image_tokens == 2  # the flags are ModaConfig's fields, derived from it
    assert model.config.projector_type == "linear" and model.config.freeze_vision is False
    assert model.generation_config.max_new_tokens == 48  # set once by the builder; readers take it from here
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    import json

    reported = json.loads(capsys.readouterr().out)["parameters"]
    assert {k: reported[k] for k in parameter_counts(model)} == parameter_counts(model)

    _save_tiny_opt(tmp_path / "lm")
    pretrained = tmp_path / "from-backbones"
    args = ["init", "--vision", str(tiny_clip_dir), "--text", str(tmp_path / "lm"), "--out", str(pretrained)]
    assert main(args) == 0
    assert (pretrained / "processor_config.json").exists() and (pretrained / "pipeline_moda.py").exists()
