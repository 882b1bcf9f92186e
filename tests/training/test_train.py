"""End-to-end tiny training runs: the run directory, resume after a SIGKILL, LoRA."""

import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModel, AutoModelForImageTextToText, AutoProcessor, TrainerCallback

from modeling_moda.training.config import parse_recipe
from modeling_moda.training.log import read_log
from modeling_moda.training.run import train


def _losses(log):
    return [(r["step"], r["loss"]) for r in log if "loss" in r]


class ArgsSpy(TrainerCallback):
    def on_train_begin(self, args, state, control, **kwargs):
        self.args = args


def test_tiny_run_writes_the_run_directory(tiny_recipe):
    path = tiny_recipe(lr_decay_every_epochs=1, lr_decay_factor=0.5, max_new_tokens=7, weight_decay=0.125)
    recipe = parse_recipe([str(path), "--adam_beta2", "0.98"])
    spy = ArgsSpy()
    result = train(recipe, callbacks=[spy])
    assert spy.args is recipe.training  # the parsed TrainingArguments go to Trainer as they are
    assert (spy.args.weight_decay, spy.args.adam_beta2) == (0.125, 0.98)
    out = result.output_dir
    assert (out / "train_log.jsonl").exists() and (out / "loss.png").stat().st_size > 0
    assert parse_recipe([str(out / "recipe.yaml")]).settings() == recipe.settings()  # reproducible
    log = read_log(out / "train_log.jsonl")
    assert any("eval_loss" in r for r in log) and all("tokens" in r for r in log)
    lrs = {r["epoch"]: r["learning_rate"] for r in log if "learning_rate" in r}
    first, last = lrs[min(lrs)], lrs[max(lrs)]
    assert last == pytest.approx(first * 0.5)  # 4 steps/epoch: epoch 2's updates run at half the lr
    assert result.global_step == 8

    model = AutoModelForImageTextToText.from_pretrained(result.model_dir, trust_remote_code=True)
    processor = AutoProcessor.from_pretrained(result.model_dir, trust_remote_code=True)
    inputs = processor(images=[torch.zeros(3, 48, 48).numpy()], return_tensors="pt")
    assert model.generate(**inputs, max_new_tokens=3).shape[0] == 1
    assert model.generation_config.max_new_tokens == 7  # the recipe's, saved with the model
    assert (result.model_dir / "README.md").exists()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from transformers import TrainerCallback
    from modeling_moda.training.config import parse_recipe
    from modeling_moda.training.run import train

    class Kill(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if state.global_step == int(sys.argv[2]):
                os.kill(os.getpid(), signal.SIGKILL)

    train(parse_recipe([sys.argv[1]]), callbacks=[Kill()])
    """
)


@pytest.mark.slow  # starts training processes
def test_resume_after_sigkill_continues_the_same_loss_curve(tiny_recipe, tmp_path):
    common = {"save_strategy": "steps", "save_steps": 2, "eval_strategy": "no", "num_train_epochs": 3}
    reference = train(parse_recipe([str(tiny_recipe(output_dir=str(tmp_path / "ref"), **common))]))
    recipe = tiny_recipe(output_dir=str(tmp_path / "killed"), **common)
    killed = subprocess.run([sys.executable, "-c", KILLER, str(recipe), "6"], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert (tmp_path / "killed" / "checkpoint-6").exists()
    resumed = train(parse_recipe([str(recipe), "--resume_from_checkpoint", "latest"]))
    expected = _losses(reference.log)
    got = _losses(read_log(tmp_path / "killed" / "train_log.jsonl"))
    assert [s for s, _ in got] == [s for s, _ in expected] == list(range(1, 13))
    assert [v for _, v in got] == pytest.approx([v for _, v in expected], rel=1e-4)
    assert resumed.global_step == 12


def test_lora_run_saves_a_merged_plain_model(tiny_recipe):
    recipe = tiny_recipe(lora=True, lora_r=4, num_train_epochs=1, activation_checkpointing=True)
    result = train(parse_recipe([str(recipe)]))
    with safe_open(str(result.model_dir / "model.safetensors"), framework="pt") as weights:
        names = list(weights.keys())
    assert any(n.startswith("model.projector.") for n in names)
    assert not [n for n in names if "lora_" in n or "base_layer" in n]  # merged: loads without peft
    model = AutoModel.from_pretrained(result.model_dir, trust_remote_code=True)
    assert model.config.model_type == "moda"


def test_moda_train_with_the_judge_and_overrides(tiny_recipe, tmp_path):
    from modeling_moda.cli import main

    recipe = str(tiny_recipe(num_train_epochs=1))
    overrides = ["--judge_every_steps", "0", "--judge_samples", "4", "--output_dir", str(tmp_path / "cli")]
    assert main(["train", recipe, *overrides]) == 0
    run = tmp_path / "cli"
    assert (run / "metrics_vs_tokens.png").exists() and (run / "model" / "metrics_vs_tokens.png").exists()
    card = (run / "model" / "README.md").read_text()
    assert "validation (last in-training evaluation)" in card and "color_accuracy" in card
    assert main(["train", recipe, "--num_train_epoch", "1"]) == 2  # a misspelt key is an error, not ignored


def test_tiny_lm_on_an_encoder_folder(tiny_recipe, tmp_path):
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    encoder = tmp_path / "encoder"  # a dual-encoder folder, as `moda encoder train` writes
    vision = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2}
    text = {**vision, "vocab_size": 64, "max_position_embeddings": 16}
    torch.manual_seed(0)
    vision.update(image_size=32, patch_size=8)
    clip = CLIPModel(CLIPConfig(projection_dim=24, vision_config=vision, text_config=text))
    clip.save_pretrained(encoder)
    size, crop = {"shortest_edge": 32}, {"height": 32, "width": 32}
    CLIPImageProcessorPil(size=size, crop_size=crop).save_pretrained(encoder)
    recipe = tiny_recipe(vision=str(encoder), num_train_epochs=1, eval_strategy="no", save_strategy="no")
    result = train(parse_recipe([str(recipe)]))
    model = AutoModelForImageTextToText.from_pretrained(result.model_dir, trust_remote_code=True)
    assert model.config.vision_embed_dim == 24  # the encoder's contrastive embedding feeds the projector
    assert torch.equal(model.visual_projection.weight, clip.visual_projection.weight)  # frozen, as saved
    assert list((tmp_path / "features").iterdir())  # its features were cached once
