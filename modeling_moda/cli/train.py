"""`moda train CONFIG [key=value ...]`: train MODA from a recipe (= `accelerate launch recipes/train.py`)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="recipe YAML (see recipes/configs/)")
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="override recipe keys, e.g. dataset=runs/quickstart/dataset num_epochs=2 output_dir=runs/x",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=None,
        metavar="CHECKPOINT",
        help="continue a killed run: from its latest checkpoint in output_dir, or from CHECKPOINT",
    )


def run(args: argparse.Namespace) -> int:
    from modeling_moda.training.config import load_config, parse_override
    from modeling_moda.training.run import train

    config = load_config(args.config, **dict(parse_override(o) for o in args.overrides))
    result = train(config, resume_from_checkpoint=args.resume)
    print(f"trained {result.global_step} steps in {result.train_runtime_s:.0f} s; model: {result.model_dir}")
    return 0
