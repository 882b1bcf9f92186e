"""`moda catalog synth`: render a synthetic product catalog (Kaggle layout) for offline demos and tests."""

from __future__ import annotations

import argparse
import json
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    synth = sub.add_parser("synth", help="render a synthetic catalog: styles.csv + images/<id>.jpg")
    synth.add_argument("--out", required=True, help="catalog folder to write")
    synth.add_argument("--n", type=int, default=2000, help="number of items (default 2000)")
    synth.add_argument("--seed", type=int, default=0, help="same seed, same catalog (default 0)")
    synth.add_argument("--workers", type=int, default=None, help="render processes (default: all cores)")


def run(args: argparse.Namespace) -> int:
    from modeling_moda.data.synth import synth_catalog

    start = time.perf_counter()
    summary = synth_catalog(args.out, n=args.n, seed=args.seed, workers=args.workers)
    summary["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(summary, indent=2))
    return 0
