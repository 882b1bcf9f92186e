"""Collator: dynamic padding to the longest row; loss only on description tokens (+ EOS)."""

import torch

from modeling_moda.builder import build_tiny_moda
from modeling_moda.training.collator import ModaCollator


def test_dynamic_padding_and_description_only_labels():
    model, processor = build_tiny_moda(seed=0, num_layers=1)
    rows = [
        {"description": "A red shirt.", "vision_embeds": torch.zeros(1, model.config.vision_embed_dim)},
        {
            "description": "A blue watch for men, casual.",
            "vision_embeds": torch.ones(1, model.config.vision_embed_dim),
        },
    ]
    batch = ModaCollator(processor)(rows)
    lengths = batch["attention_mask"].sum(1)
    assert batch["input_ids"].shape[1] == int(lengths.max())  # padded to the longest, not a fixed size
    assert batch["vision_embeds"].shape == (2, 1, model.config.vision_embed_dim)
    tok = processor.tokenizer
    for i, row in enumerate(rows):
        target = tok(row["description"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        labelled = batch["labels"][i][batch["labels"][i] != -100].tolist()
        assert labelled == target  # image tokens, BOS and padding are all -100
    assert model(**batch).loss.isfinite()


def test_pixel_rows_carry_pixel_values():
    model, processor = build_tiny_moda(seed=0, num_layers=1)
    image = torch.zeros(32, 32, 3, dtype=torch.uint8).numpy()
    batch = ModaCollator(processor, prompt="Describe:")([{"description": "A black belt.", "image": image}])
    assert batch["pixel_values"].shape[0] == 1 and "vision_embeds" not in batch
