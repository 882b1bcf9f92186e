"""End-to-end tiny training runs: the run directory, resume after a SIGKILL, LoRA."""

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from modeling_moda.training.config import load_config
from modeling_moda.training.log import read_log
from modeling_moda.training.run import train


def _losses(log):
    return [(r["step"], r["loss"]) for r in log if "loss" in r]


def test_tiny_run_writes_the_run_directory(tiny_recipe):
    config = load_config(tiny_recipe(lr_decay_every_epochs=1, lr_decay_factor=0.5))
    result = train(config)
    out = result.output_dir
    assert (out / "train_log.jsonl").exists() and (out / "loss.png").stat().st_size > 0
    assert (out / "recipe.yaml").exists()
    log = read_log(out / "train_log.jsonl")
    assert any("eval_loss" in r for r in log) and all("tokens" in r for r in log)
    lrs = {r["epoch"]: r["learning_rate"] for r in log if "learning_rate" in r}
    first, last = lrs[min(lrs)], lrs[max(lrs)]
    assert last == pytest.approx(first * 0.5)  # 4 steps/epoch: epoch 2's updates run at half the lr
    assert result.global_step == 8

    from transformers import AutoModel, AutoProcessor

    model = AutoModel.from_pretrained(result.model_dir, trust_remote_code=True)
    processor = AutoProcessor.from_pretrained(result.model_dir, trust_remote_code=True)
    inputs = processor(images=[torch.zeros(3, 48, 48).numpy()], return_tensors="pt")
    assert model.generate(**inputs, max_new_tokens=3).shape[0] == 1
    assert (result.model_dir / "README.md").exists()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from transformers import TrainerCallback
    from modeling_moda.training.config import load_config
    from modeling_moda.training.run import train

    class Kill(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if state.global_step == int(sys.argv[2]):
                os.kill(os.getpid(), signal.SIGKILL)

    train(load_config(sys.argv[1]), callbacks=[Kill()])
    """
)


def test_resume_after_sigkill_continues_the_same_loss_curve(tiny_recipe, tmp_path):
    common = {"save_strategy": "steps", "save_steps": 2, "eval_strategy": "no", "num_epochs": 3}
    reference = train(load_config(tiny_recipe(output_dir=str(tmp_path / "ref"), **common)))
    recipe = tiny_recipe(output_dir=str(tmp_path / "killed"), **common)
    killed = subprocess.run([sys.executable, "-c", KILLER, str(recipe), "6"], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert (tmp_path / "killed" / "checkpoint-6").exists()
    resumed = train(load_config(recipe), resume_from_checkpoint=True)
    expected = _losses(reference.log)
    got = _losses(read_log(tmp_path / "killed" / "train_log.jsonl"))
    assert [s for s, _ in got] == [s for s, _ in expected] == list(range(1, 13))
    assert [v for _, v in got] == pytest.approx([v for _, v in expected], rel=1e-4)
    assert resumed.global_step == 12


def test_lora_run_saves_a_merged_plain_model(tiny_recipe):
    config = load_config(tiny_recipe(lora=True, lora_r=4, num_epochs=1, gradient_checkpointing=True))
    result = train(config)
    saved = json.loads((result.model_dir / "config.json").read_text())
    assert saved["model_type"] == "moda"
    names = (result.model_dir / "model.safetensors").read_bytes()[:20000]
    assert b"lora_" not in names  # adapters merged, no peft needed to load
