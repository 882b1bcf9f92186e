"""LoRA (peft) adapts only the language model; adapters save, reload and merge."""

from __future__ import annotations

import torch
from peft import PeftModel, get_peft_model

from modeling_moda.builder import build_tiny_moda, lora_config_for_lm
from modeling_moda.modeling_moda import ModaForConditionalGeneration

from .conftest import make_images


def test_lora_on_lm_only_saves_reloads_and_merges(tmp_path):
    base, processor = build_tiny_moda(seed=0)
    base.save_pretrained(tmp_path / "base")
    # the CLIP encoder has q_proj/v_proj layers too: the adapter must not touch them
    assert any(n.endswith("self_attn.q_proj") for n, _ in base.vision_tower.named_modules())

    model = get_peft_model(base, lora_config_for_lm(r=4, alpha=8, dropout=0.0))
    lora_modules = [n for n, m in model.named_modules() if hasattr(m, "lora_A")]
    assert lora_modules and all(".language_model." in n for n in lora_modules)
    assert {n.rsplit(".", 1)[1] for n in lora_modules} == {"q_proj", "v_proj"}
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert all("lora_" in n or ".projector." in n for n in trainable)
    assert not any("vision_tower" in n or "visual_projection" in n for n in trainable)

    batch = processor(images=make_images(2), suffix=["A red dress.", "Black shoes."])
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):  # lora_B starts at zero: train so the adapter changes the output
        optimizer.zero_grad()
        model(**batch).loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        adapted = model(**batch).logits
        plain = ModaForConditionalGeneration.from_pretrained(tmp_path / "base").eval()(**batch).logits
    assert not torch.allclose(adapted, plain)

    model.save_pretrained(tmp_path / "adapter")
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()
    reloaded = PeftModel.from_pretrained(
        ModaForConditionalGeneration.from_pretrained(tmp_path / "base"), tmp_path / "adapter"
    ).eval()
    with torch.no_grad():
        assert torch.allclose(reloaded(**batch).logits, adapted, atol=1e-5)

    merged = reloaded.merge_and_unload()
    assert isinstance(merged, ModaForConditionalGeneration)
    assert not any(hasattr(m, "lora_A") for m in merged.modules())
    merged.save_pretrained(tmp_path / "merged")
    with torch.no_grad():
        again = ModaForConditionalGeneration.from_pretrained(tmp_path / "merged").eval()(**batch).logits
    assert torch.allclose(again, adapted, atol=1e-5)
