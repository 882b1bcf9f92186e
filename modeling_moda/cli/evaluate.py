"""`moda evaluate`: generate descriptions for a dataset split and score them with a judge.

moda evaluate --model runs/tiny/model --dataset data/moda-fashion --split test --judge rules --out runs/eval
moda evaluate ... --judge openai --judge-model gpt-4o-mini            # key from $OPENAI_API_KEY
moda evaluate ... --compare-judges rules openai --judge-base-url http://127.0.0.1:8000/v1 --judge-model M
ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 -m modeling_moda evaluate ...

Describing follows `moda describe`'s rules: one process by default, or sharded over the processes of an
`accelerate launch` (each writes its part of OUT/descriptions.jsonl), merged in row order; then the main
process judges. `--resume` after a crash describes only the missing rows.
"""

from __future__ import annotations

import argparse
import sys

JUDGES = ("rules", "openai", "transformers")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="a saved MODA folder")
    parser.add_argument("--dataset", help="a dataset folder (save_to_disk or data files) or Hub id")
    parser.add_argument("--predictions", help="re-judge an earlier run's samples.jsonl (no model needed)")
    parser.add_argument("--split", default="test")
    parser.add_argument(
        "--out", required=True, help="run directory for metrics.json, samples.jsonl, report.md, PNGs"
    )
    parser.add_argument("--judge", choices=JUDGES, default="rules")
    parser.add_argument(
        "--compare-judges",
        nargs=2,
        metavar=("A", "B"),
        choices=JUDGES,
        help="score with judge A (the report's) and B, and report their agreement",
    )
    parser.add_argument(
        "--judge-model",
        help="LLM judge model (openai default: $MODA_JUDGE_MODEL or gpt-4o-mini; "
        "transformers: a folder or Hub id)",
    )
    parser.add_argument(
        "--judge-base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL or OpenAI)"
    )
    parser.add_argument("--judge-gguf-file", help="transformers judge: a GGUF file inside --judge-model")
    parser.add_argument("--judge-cache", help="LLM judge response cache (default: OUT/judge_cache.jsonl)")
    parser.add_argument("--judge-images", action="store_true", help="send the product image to the LLM judge")
    parser.add_argument("--judge-concurrency", type=int, default=4)
    parser.add_argument("--limit", type=int, help="evaluate only the first N items of the split")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, help="default: the model's generation config")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    parser.add_argument("--dtype", default="float32", help="float32 (default), bfloat16, float16 or auto")
    parser.add_argument("--grid-size", type=int, default=12, help="images in samples.png")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the rows an interrupted run described (OUT/descriptions.jsonl)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads per process (default: physical cores / processes on this machine)",
    )


def make_judge(name: str, args: argparse.Namespace):
    from pathlib import Path

    from modeling_moda.evaluation import get_judge

    if name == "rules":
        return get_judge("rules")
    cfg = {
        "model": args.judge_model,
        "cache_path": args.judge_cache or str(Path(args.out) / f"judge_cache_{name}.jsonl"),
        "use_images": args.judge_images,
        "progress": True,
    }
    if name == "openai":
        cfg.update(base_url=args.judge_base_url, max_concurrency=args.judge_concurrency)
    else:
        cfg.update(gguf_file=args.judge_gguf_file, device=args.device)
    return get_judge(name, **cfg)


def run(args: argparse.Namespace) -> int:
    from modeling_moda.backends import BackendError
    from modeling_moda.evaluation import ALL_METRICS, DISPLAY_NAMES
    from modeling_moda.evaluation.run import rejudge_samples
    from modeling_moda.pipeline.evaluate import evaluate_model

    first, second = args.compare_judges or (args.judge, None)
    try:
        judge = make_judge(first, args)
        compare_judge = make_judge(second, args) if second else None
    except (BackendError, ValueError, OSError) as err:
        print(f"moda evaluate: cannot set up the judge: {err}", file=sys.stderr)
        return 2
    if not args.predictions and not (args.model and args.dataset):
        print("moda evaluate: give --model and --dataset, or --predictions", file=sys.stderr)
        return 2
    try:
        if args.predictions:
            result = rejudge_samples(args.predictions, args.out, judge, compare_judge)
        else:
            result = evaluate_model(
                args.model,
                args.dataset,
                args.out,
                split=args.split,
                judge=judge,
                compare_judge=compare_judge,
                limit=args.limit,
                batch_size=args.batch_size,
                max_new_tokens=args.max_new_tokens,
                device=args.device,
                dtype=args.dtype,
                grid_size=args.grid_size,
                resume=args.resume,
                threads=args.threads,
            )
    except BackendError as err:  # the judge's endpoint is down: no report; judged samples stay cached
        print(
            f"moda evaluate: stopped, no report written: {err}\n"
            "The judge replies that arrived are cached; run the same command again once the endpoint works.",
            file=sys.stderr,
        )
        return 1
    if result is None:  # not the main process: the main one judges and reports
        return 0
    m = result.metrics
    print(
        f"scored {m['n_scored']}/{m['n_samples']} samples ({m['n_unscored']} unscored) with the {first} judge"
    )
    for metric in ALL_METRICS:
        r = m[metric]
        mean = "n/a" if r["mean"] is None else f"{r['mean']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
        print(f"  {DISPLAY_NAMES[metric]:<20} {mean}")
    if result.agreement:
        print(f"agreement {first} vs {second}: see {result.files['report']}")
    print(f"report: {result.files['report']}")
    return 0
