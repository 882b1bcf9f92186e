"""`moda dataset build` (catalog -> teacher -> refiner -> Hub dataset folder) and `moda dataset push`."""

from __future__ import annotations

import argparse
import json
import logging
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="build (or resume) a description dataset from a catalog")
    build.add_argument(
        "--source", required=True, help="catalog folder (styles.csv / fashion.csv) or datasets id"
    )
    build.add_argument("--out", required=True, help="output folder (Hub dataset layout)")
    build.add_argument(
        "--config", default=None, help="YAML build config (backends per step, prompts, splits)"
    )
    build.add_argument(
        "--num-shards", type=int, default=1, help="split the catalog into K shards (default 1)"
    )
    build.add_argument("--shard-index", type=int, default=0, help="which shard this process builds")
    build.add_argument("--quiet", action="store_true", help="no progress bar, no per-reject warnings")
    push = sub.add_parser("push", help="upload a built dataset folder to the Hugging Face Hub")
    push.add_argument("folder", help="the built dataset folder")
    push.add_argument("repo_id", help="the dataset repository, e.g. org/moda-fashion")
    push.add_argument("--private", action="store_true", help="create the repository private")


def run(args: argparse.Namespace) -> int:
    if args.action == "push":
        from modeling_moda.data.push import push_dataset

        print(push_dataset(args.folder, args.repo_id, private=args.private))
        return 0
    from modeling_moda.backends import BackendError
    from modeling_moda.data.build import build_dataset
    from modeling_moda.data.config import load_build_config

    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.WARNING, format="%(levelname)s %(message)s"
    )
    try:
        stats = build_dataset(
            args.source,
            args.out,
            load_build_config(args.config),
            num_shards=args.num_shards,
            shard_index=args.shard_index,
            progress=not args.quiet,
        )
    except BackendError as err:  # the endpoint is down (or the client cannot be set up): nothing is finished
        print(
            f"moda dataset build: stopped, nothing marked finished: {err}\n"
            "The replies that arrived are cached; run the same command again once the endpoint works.",
            file=sys.stderr,
        )
        return 1
    summary = {key: stats[key] for key in ("rows", "rejects", "reject_reasons", "seconds")}
    summary["ocr"] = {
        key: stats[key] for key in ("raw_with_printed_text", "removed_by_refiner", "check_rows")
    }
    summary["calls"] = {"teacher": stats["teacher_calls"], "refiner": stats["refiner_calls"]}
    summary["repaired"] = {"teacher": stats["teacher_repaired"], "refiner": stats["refiner_repaired"]}
    print(json.dumps(summary, indent=2))
    return 0
