"""Per-epoch training time: the seed notebook's way against the recipe's, same data, same model shape.

- seed:   the frozen encoder runs on every image of every batch of every epoch (decode, resize, encode),
          and every batch is padded to a fixed length;
- recipe: each image is encoded once into the feature cache (timed separately, paid once), then every epoch
          trains on cached features with batches padded to their longest sample (dynamic padding).

Both run the same optimiser loop (AdamW, fp32 or --dtype), so the ratio isolates the data path.

    python recipes/benchmark_training.py --dataset runs/quickstart/dataset                 # tiny shape
    python recipes/benchmark_training.py --dataset DIR --shape reference --max-items 256   # seed's shape
    python recipes/benchmark_training.py --dataset DIR --shape reference --device cuda --max-items 2906

`--shape reference` is FashionCLIP ViT-B/32 + MLP 512->3072->768 + OPT-125M from configs (random weights,
no download). The last line projects the seed's 40 epochs from the measured per-epoch times.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from torch.utils.data import DataLoader


def build(shape: str, texts: list[str]):
    from transformers import CLIPImageProcessorPil

    from modeling_moda.builder import build_reference_config, build_tiny_moda, train_tokenizer
    from modeling_moda.configuration_moda import IMAGE_TOKEN
    from modeling_moda.modeling_moda import ModaForConditionalGeneration
    from modeling_moda.processing_moda import ModaProcessor

    if shape == "tiny":
        return build_tiny_moda(
            texts=texts, image_size=32, vision_hidden=64, text_hidden=128, freeze_vision=True
        )
    tokenizer = train_tokenizer(texts, vocab_size=1024)  # ids < 1024 in OPT-125M's 50,272-row embedding
    config = build_reference_config(image_token_id=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN))
    model = ModaForConditionalGeneration(config)
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}
    )
    return model, ModaProcessor(image_processor=image_processor, tokenizer=tokenizer)


def seed_collate(processor, max_length: int):
    """The seed's batches: images -> pixels on every call, every row padded to `max_length`."""

    def collate(rows):
        batch = processor(images=[r["image"] for r in rows], suffix=[r["description"] for r in rows])
        width = batch["input_ids"].shape[1]
        if width < max_length:
            pad = max_length - width
            pad_id = processor.tokenizer.pad_token_id
            batch["input_ids"] = torch.nn.functional.pad(batch["input_ids"], (0, pad), value=pad_id)
            batch["attention_mask"] = torch.nn.functional.pad(batch["attention_mask"], (0, pad), value=0)
            batch["labels"] = torch.nn.functional.pad(batch["labels"], (0, pad), value=-100)
        return dict(batch)

    return collate


def run_epoch(model, loader, device: str, dtype: torch.dtype) -> float:
    """One epoch of AdamW steps over `loader`; returns seconds."""
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    model.train()
    start = time.perf_counter()
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.autocast(device_type=device.split(":")[0], dtype=dtype, enabled=dtype != torch.float32):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dataset", required=True, help="a built dataset folder (e.g. runs/quickstart/dataset)"
    )
    parser.add_argument("--split", default="train")
    parser.add_argument("--shape", choices=("tiny", "reference"), default="tiny")
    parser.add_argument("--max-items", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed-max-length", type=int, default=64, help="the seed's fixed padded length")
    parser.add_argument("--epochs", type=int, default=40, help="epochs for the projected total (seed: 40)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    args = parser.parse_args()

    from modeling_moda.training.collator import ModaCollator
    from modeling_moda.training.config import DataArguments
    from modeling_moda.training.data import DescriptionRows, LazyColumn, load_recipe_split
    from modeling_moda.training.feature_cache import FeatureCache, encoder_fingerprint

    torch.manual_seed(0)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    data = DataArguments(dataset=args.dataset)
    split = load_recipe_split(data, args.split, args.max_items)
    model, processor = build(args.shape, split["description"])
    model.to(args.device)
    n = len(split)
    loader_args = {
        "batch_size": args.batch_size,
        "shuffle": True,
        "generator": torch.Generator().manual_seed(0),
    }

    seed_rows = DescriptionRows(split, data)  # rows carry their image
    seed_loader = DataLoader(
        seed_rows, collate_fn=seed_collate(processor, args.seed_max_length), **loader_args
    )
    seed_s = run_epoch(model, seed_loader, args.device, dtype)

    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        cache = FeatureCache(cache_dir, encoder_fingerprint(model, processor))
        features = cache.get_or_encode(
            args.split, split["id"], LazyColumn(split, "image"), model, processor, batch_size=64
        )
        encode_s = time.perf_counter() - start
    recipe_rows = DescriptionRows(split, data, features=features)
    recipe_loader = DataLoader(recipe_rows, collate_fn=ModaCollator(processor), **loader_args)
    recipe_s = run_epoch(model, recipe_loader, args.device, dtype)

    print(f"\nshape={args.shape} items={n} batch={args.batch_size} device={args.device} dtype={args.dtype}")
    print(f"{'':34}{'seconds':>10}{'items/s':>10}")
    print(f"{'seed epoch (encoder every time)':34}{seed_s:>10.2f}{n / seed_s:>10.1f}")
    print(f"{'recipe epoch (cache + dyn. pad)':34}{recipe_s:>10.2f}{n / recipe_s:>10.1f}")
    print(f"{'recipe one-time encoding':34}{encode_s:>10.2f}{n / encode_s:>10.1f}")
    print(f"per-epoch speed-up (seed / recipe): {seed_s / recipe_s:.2f}x")
    seed_total = args.epochs * seed_s
    recipe_total = encode_s + args.epochs * recipe_s
    print(
        f"{args.epochs} epochs on these {n} items: seed {seed_total / 60:.1f} min, "
        f"recipe {recipe_total / 60:.1f} min ({seed_total / recipe_total:.2f}x)"
    )


if __name__ == "__main__":
    main()
