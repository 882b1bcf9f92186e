"""`moda quickstart`: catalog -> dataset -> encoder -> MODA -> evaluate -> describe -> report, offline."""

from __future__ import annotations

import argparse
import os

# Shared or oversubscribed CPUs: OpenMP threads that spin while waiting make small models 10-30x slower.
# Must be set before torch loads (verb modules import torch only inside `run`).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from modeling_moda.pipeline.quickstart import ENCODER_EPOCHS, QUICKSTART_ITEMS  # noqa: E402  (light: no torch)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="runs/quickstart", help="run directory (default runs/quickstart)")
    parser.add_argument(
        "--items", type=int, default=QUICKSTART_ITEMS, help="synthetic catalog size (default %(default)s)"
    )
    parser.add_argument("--epochs", type=float, default=None, help="training epochs (default: the recipe's)")
    parser.add_argument(
        "--encoder-epochs",
        type=int,
        default=ENCODER_EPOCHS,
        help="contrastive encoder epochs (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="catalog seed (default 0)")
    parser.add_argument(
        "--workers", type=int, default=None, help="catalog render processes (default: all cores)"
    )


def run(args: argparse.Namespace) -> int:
    from modeling_moda.pipeline.quickstart import run_quickstart

    summary = run_quickstart(
        args.out,
        items=args.items,
        epochs=args.epochs,
        seed=args.seed,
        workers=args.workers,
        encoder_epochs=args.encoder_epochs,
    )
    metrics = ", ".join(f"{k} {v:.2f}" for k, v in summary["metrics_test"].items() if v is not None)
    print(f"quickstart done in {summary['timings_s']['total']:.0f} s; test: {metrics}")
    print(f"report: {os.path.join(args.out, 'report.md')}; model: {os.path.join(args.out, 'model')}")
    return 0
