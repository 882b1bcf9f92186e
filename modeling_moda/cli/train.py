"""`moda train RECIPE [--key value ...]`: train MODA from a recipe (= `python recipes/train.py`)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="recipe YAML (see recipes/configs/)")
    parser.add_argument(
        "overrides",
        nargs=argparse.REMAINDER,
        metavar="--key value",
        help="any recipe key, winning over the YAML: e.g. --dataset runs/quickstart/dataset "
        "--num_train_epochs 2 --output_dir runs/x; --resume_from_checkpoint latest continues a killed run; "
        "`moda train RECIPE --help` lists every key",
    )


def run(args: argparse.Namespace) -> int:
    from modeling_moda.pipeline.train import judge_callbacks
    from modeling_moda.training.config import parse_recipe
    from modeling_moda.training.run import train

    try:
        recipe = parse_recipe([args.recipe, *args.overrides])
    except (OSError, ValueError) as err:
        print(f"moda train: {err}", file=sys.stderr)
        return 2
    result = train(recipe, callbacks=judge_callbacks(recipe))
    print(f"trained {result.global_step} steps in {result.train_runtime_s:.0f} s; model: {result.model_dir}")
    return 0
