"""`moda encoder train`: train the contrastive encoder (our FashionCLIP) on a dataset's train split.

moda encoder train --dataset DS --out DIR                         # from scratch, offline (ResNet + text)
moda encoder train --dataset DS --out DIR --init openai/clip-vit-base-patch32   # fine-tune a Hub CLIP
A rerun continues from the last finished epoch; a finished folder (encoder_metrics.json) is left as is.
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    train = sub.add_parser("train", help="contrastive training, then zero-shot and linear-probe scores")
    train.add_argument("--dataset", required=True, help="dataset folder (moda dataset build) or Hub id")
    train.add_argument("--out", required=True, help="output folder (a Hub-layout encoder)")
    train.add_argument("--init", help="Hub CLIP id or local CLIP folder to fine-tune (default: from scratch)")
    train.add_argument("--epochs", type=int, default=8)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--learning-rate", type=float, help="default 2e-3 from scratch, 1e-5 with --init")
    train.add_argument("--texts", choices=("metadata", "description", "mixed"), default="metadata")
    train.add_argument("--image-size", type=int, help="from scratch: input size in pixels (default 64)")
    train.add_argument("--limit", type=int, help="use only the first N rows of each split")
    train.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from modeling_moda.encoder import train_encoder

    shape = {"image_size": args.image_size} if args.image_size else {}
    try:
        metrics = train_encoder(
            args.dataset,
            args.out,
            init=args.init,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            seed=args.seed,
            texts=args.texts,
            limit=args.limit,
            **shape,
        )
    except (ValueError, OSError) as err:
        print(f"moda encoder train: {err}")
        return 2
    print(json.dumps({k: metrics[k] for k in ("zero_shot", "linear_probe", "train_seconds")}, indent=2))
    return 0
