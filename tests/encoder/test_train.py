"""`moda encoder train`: from scratch, from a local CLIP, resume; the folder loads in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from modeling_moda.encoder import METRICS_FILE, train_encoder
from modeling_moda.encoder import train as train_module

from .conftest import TINY_SHAPE

FRESH_LOAD = """
import json, sys
from PIL import Image
from transformers import AutoModel, AutoProcessor, pipeline
path, kind = sys.argv[1], sys.argv[2]
# ours is remote code (a ResNet dual encoder), as a Hub user loads it; a CLIP is stock transformers
remote = {"trust_remote_code": True} if kind == "dual" else {}
model = AutoModel.from_pretrained(path, **remote)
processor = AutoProcessor.from_pretrained(path, **remote)
if kind == "clip":
    from transformers import CLIPModel
    assert type(CLIPModel.from_pretrained(path)).__name__ == "CLIPModel"
classify = pipeline("zero-shot-image-classification", model=path, **remote)
labels = ["red", "blue", "tshirts"]
scores = classify(Image.open(sys.argv[3]), candidate_labels=labels, hypothesis_template="{}")
print(json.dumps({"model": type(model).__name__, "processor": type(processor).__name__,
                  "labels": sorted(s["label"] for s in scores)}))
"""


def _fresh_load(path: Path, kind: str, image: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", FRESH_LOAD, str(path), kind, str(image)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _an_image(dataset: Path, tmp_path: Path) -> Path:
    from modeling_moda.core.datasets import load_split

    path = tmp_path / "item.jpg"
    load_split(str(dataset), "test")[0]["image"].save(path)
    return path


@pytest.mark.slow
def test_scratch_encoder_trains_scores_and_loads_in_a_fresh_process(
    synth_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "encoder"
    metrics = train_encoder(str(synth_dataset), out, epochs=2, batch_size=16, progress=False, **TINY_SHAPE)
    assert json.loads((out / METRICS_FILE).read_text()) == metrics
    assert set(metrics["zero_shot"]) == {"colour", "article_type", "gender", "usage"}
    assert all(0.0 <= v <= 1.0 for v in metrics["zero_shot"].values())
    assert all(0.0 <= v <= 1.0 for v in metrics["linear_probe"].values())
    assert len(metrics["epoch_losses"]) == 2 and not list(out.glob("checkpoint-*"))
    assert "zero-shot-image-classification" in (out / "README.md").read_text()
    loaded = _fresh_load(out, "dual", _an_image(synth_dataset, tmp_path))
    assert loaded == {
        "model": "ModaEncoderModel",
        "processor": "VisionTextDualEncoderProcessor",
        "labels": ["blue", "red", "tshirts"],
    }
    # a finished folder is not retrained
    assert train_encoder(str(synth_dataset), out, epochs=5, progress=False) == metrics


@pytest.mark.slow
def test_init_from_a_local_clip_fine_tunes_it_and_the_loss_goes_down(
    synth_dataset: Path, tiny_clip_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "clip-ft"
    before = load_file(str(tiny_clip_dir / "model.safetensors"))
    metrics = train_encoder(
        str(synth_dataset), out, init=str(tiny_clip_dir), epochs=4, batch_size=16, learning_rate=2e-3,
        progress=False,
    )  # fmt: skip
    losses = metrics["epoch_losses"]
    assert metrics["init"] == str(tiny_clip_dir) and metrics["architecture"] == "CLIPModel"
    assert losses[-1] < losses[0] - 0.1
    after = load_file(str(out / "model.safetensors"))
    assert not torch.equal(before["vision_model.embeddings.patch_embedding.weight"],
                           after["vision_model.embeddings.patch_embedding.weight"])  # fmt: skip
    loaded = _fresh_load(out, "clip", _an_image(synth_dataset, tmp_path))
    assert loaded["model"] == "CLIPModel" and loaded["processor"] == "CLIPProcessor"


@pytest.mark.slow
def test_a_rerun_continues_from_the_last_finished_epoch(
    synth_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after epoch 1 of 2 and rerun: the same weights as one uninterrupted run."""
    whole = tmp_path / "whole"
    train_encoder(str(synth_dataset), whole, epochs=2, batch_size=16, progress=False, **TINY_SHAPE)

    real_save = train_module._save_checkpoint

    def save_then_stop(out, model, optimizer, epoch, losses):
        real_save(out, model, optimizer, epoch, losses)
        raise KeyboardInterrupt  # the process is stopped right after epoch 1 is saved

    monkeypatch.setattr(train_module, "_save_checkpoint", save_then_stop)
    resumed = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        train_encoder(str(synth_dataset), resumed, epochs=2, batch_size=16, progress=False, **TINY_SHAPE)
    assert [p.name for p in resumed.glob("checkpoint-*")] == ["checkpoint-1"]
    monkeypatch.setattr(train_module, "_save_checkpoint", real_save)
    metrics = train_encoder(
        str(synth_dataset), resumed, epochs=2, batch_size=16, progress=False, **TINY_SHAPE
    )

    assert metrics["epoch_losses"] == json.loads((whole / METRICS_FILE).read_text())["epoch_losses"]
    a, b = load_file(str(whole / "model.safetensors")), load_file(str(resumed / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
