"""A saved MODA loads in a fresh process that never imports `modeling_moda`: Auto classes, both pipelines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from .conftest import make_images

CODE_FILES = {"configuration_moda.py", "modeling_moda.py", "processing_moda.py", "pipeline_moda.py"}

# Runs in a fresh interpreter, from an empty folder, with only transformers (+ trust_remote_code).
FRESH_PROCESS = textwrap.dedent(
    """
    import json, sys
    import torch
    from PIL import Image
    from safetensors.torch import save_file
    from transformers import (AutoConfig, AutoModel, AutoModelForCausalLM, AutoModelForImageTextToText,
                              AutoProcessor, pipeline)

    model_dir, out_dir = sys.argv[1], sys.argv[2]
    report = {"config": type(AutoConfig.from_pretrained(model_dir, trust_remote_code=True)).__name__}
    processor = AutoProcessor.from_pretrained(model_dir, trust_remote_code=True)
    report["processor"] = type(processor).__name__
    images = [Image.open(f"{out_dir}/image{i}.png") for i in range(2)]
    batch = processor(images=images, text=["", "a red"], suffix=["A red dress.", "Black shoes."])
    logits = {}
    for auto in (AutoModelForCausalLM, AutoModelForImageTextToText):
        model = auto.from_pretrained(model_dir, trust_remote_code=True).eval()
        with torch.no_grad():
            logits[auto.__name__] = model(**batch).logits.contiguous()
    base = AutoModel.from_pretrained(model_dir, trust_remote_code=True).eval()
    with torch.no_grad():  # the base model: hidden states, which the generating model's head makes logits
        hidden = base(**{k: v for k, v in batch.items() if k != "labels"}).last_hidden_state
        logits["AutoModel"] = model.lm_head(hidden).contiguous()
    save_file(logits, f"{out_dir}/logits.safetensors")
    model.save_pretrained(f"{out_dir}/resaved")  # a remote-code model saves its code files again
    processor.save_pretrained(f"{out_dir}/resaved")

    describe = pipeline("image-to-text", model=model_dir, trust_remote_code=True)
    report["pipeline"] = type(describe).__name__
    report["one_image"] = describe(images[0], max_new_tokens=5)
    report["one_path"] = describe(f"{out_dir}/image1.png", max_new_tokens=5)
    report["batched"] = describe([images[0], f"{out_dir}/image1.png"], max_new_tokens=5, batch_size=2)
    chat = pipeline("image-text-to-text", model=model_dir, trust_remote_code=True)
    content = [{"type": "image", "image": images[0]}, {"type": "text", "text": "a"}]
    replies = chat(text=[{"role": "user", "content": content}], max_new_tokens=5, return_full_text=False)
    report["chat"] = [r["generated_text"] for r in replies]
    report["imported_modeling_moda"] = sorted(m for m in sys.modules if m.split(".")[0] == "modeling_moda")
    print("REPORT" + json.dumps(report))
    """
)


@pytest.mark.slow  # starts a Python process
def test_fresh_process_loads_model_processor_and_pipelines(tiny, tiny_dir, tmp_path):
    model, processor = tiny
    images = make_images(2, seed=5)
    for i, image in enumerate(images):
        image.save(tmp_path / f"image{i}.png")
    files = set(os.listdir(tiny_dir))
    assert CODE_FILES | {"model.safetensors"} <= files
    assert not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)
    config = json.loads((tiny_dir / "config.json").read_text())
    assert set(config["auto_map"]) == {
        "AutoConfig",
        "AutoModel",
        "AutoModelForCausalLM",
        "AutoModelForImageTextToText",
        "AutoProcessor",
    }
    assert config["custom_pipelines"]["image-to-text"]["impl"] == "pipeline_moda.ModaImageToTextPipeline"

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(tiny_dir), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.split("REPORT", 1)[1])
    assert report["config"] == "ModaConfig" and report["processor"] == "ModaProcessor"
    assert report["pipeline"] == "ModaImageToTextPipeline"
    assert report["imported_modeling_moda"] == []
    assert CODE_FILES <= set(os.listdir(tmp_path / "resaved"))

    # identical logits to the in-process model, for every Auto class
    batch = processor(images=images, text=["", "a red"], suffix=["A red dress.", "Black shoes."])
    with torch.no_grad():
        expected = model(**batch).logits
    for name, logits in load_file(tmp_path / "logits.safetensors").items():
        assert torch.equal(logits, expected), name

    # the pipeline says what in-process greedy generation says
    with torch.no_grad():
        prompts = processor(images=images, text="")
        new = model.generate(**prompts, max_new_tokens=5)[:, prompts["input_ids"].shape[1] :]
    texts = [t.strip() for t in processor.batch_decode(new, skip_special_tokens=True)]
    assert report["one_image"] == [{"generated_text": texts[0]}]
    assert report["one_path"] == [{"generated_text": texts[1]}]
    assert report["batched"] == [[{"generated_text": texts[0]}], [{"generated_text": texts[1]}]]
    assert len(report["chat"]) == 1 and isinstance(report["chat"][0], str)
