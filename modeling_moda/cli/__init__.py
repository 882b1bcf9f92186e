"""The `moda` command: one verb per pipeline stage.

Each verb lives in `modeling_moda/cli/<module>.py` and defines `add_arguments(parser)` and `run(args) -> int`.
Verb modules are imported only when that verb runs, so `moda --help` stays instant (no torch import).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# verb -> (module under modeling_moda.cli, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "init": ("init", "assemble an untrained MODA from a vision backbone and a language model"),
    "info": ("info", "print a model's architecture, parameter counts per part, frozen/trainable"),
    "catalog": ("catalog", "catalog tools (e.g. `moda catalog synth`: render a synthetic product catalog)"),
    "dataset": ("dataset", "build a description dataset from a catalog (teacher -> refiner), or push one"),
    "encoder": ("encoder", "train the contrastive image-text encoder MODA freezes (`moda encoder train`)"),
    "train": ("train", "train a MODA from a recipe config (same as `accelerate launch recipes/train.py`)"),
    "evaluate": ("evaluate", "generate descriptions for a split and score them with a judge"),
    "describe": ("describe", "describe images with a trained MODA"),
    "serve": ("serve", "an OpenAI-compatible server for a MODA (dynamic batching, streaming, API key)"),
    "export": ("export", "export a saved MODA to ONNX (vision graph, embeddings, decoder with past)"),
    "quickstart": ("quickstart", "the whole mission offline on a CPU: catalog -> dataset -> train -> report"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moda", description="MODA: describe fashion product photos.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (_, help_text) in VERBS.items():
        sub.add_parser(verb, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or argv[0] not in VERBS:
        parser.parse_args(argv)  # prints help or the "invalid choice" error
        parser.print_help()
        return 0 if not argv else 2
    verb = argv[0]
    module = importlib.import_module(f"modeling_moda.cli.{VERBS[verb][0]}")
    verb_parser = argparse.ArgumentParser(prog=f"moda {verb}", description=VERBS[verb][1])
    module.add_arguments(verb_parser)
    args = verb_parser.parse_args(argv[1:])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
