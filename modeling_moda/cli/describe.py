"""`moda describe`: describe product photos with a trained MODA, streaming through any number of inputs,
in one process or across processes, GPUs and machines (`accelerate launch`).

moda describe --model runs/quickstart/model photos/ more/*.jpg listing.csv --format jsonl --out out.jsonl
moda describe --model DIR data/moda-fashion --split test --format parquet --out out.parquet  # a dataset
moda describe --model DIR photos/ --out out.csv --format csv --review-below 0.5   # + out.csv.review.jsonl
moda describe --model DIR photos/ --out out.jsonl --resume        # after a crash: redo only what is missing
moda describe --model DIR photos/ --quantize int8                               # int8 weights on a CPU
moda describe --model ONNX_DIR photos/ --runtime onnxruntime [--quantize int8|q4]  # `moda export onnx` folder
ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 -m modeling_moda describe \
    --model DIR photos/ --out out.jsonl                         # 2 CPU processes, each on half the cores
accelerate launch --multi_gpu --num_processes 8 -m modeling_moda describe ...   # 8 GPUs, one process each

PATH: image files, folders (recursive), glob patterns (quote them), CSV/JSONL listings with an
`image`/`path` column, or a dataset (a `save_to_disk` or `moda dataset build` folder, or
`hf://datasets/ORG/NAME`) with an image column. Bad inputs (missing, empty, truncated, not an image, too
large) are reported on stderr once, written as failed rows, and the run goes on; the exit code is 1 if any
input failed. Each process writes its part file in OUT.parts/; the main process merges them into OUT in
input order (the same bytes as one process writes) and removes the parts.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from modeling_moda.inference.inputs import DEFAULT_IMAGE_COLUMN, DEFAULT_SPLIT
    from modeling_moda.inference.loading import DEFAULT_MAX_FILE_MB
    from modeling_moda.inference.output import FORMATS

    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="images, folders, globs, .csv/.jsonl listings, dataset folders, hf://datasets/ORG/NAME",
    )
    parser.add_argument("--model", required=True, help="saved MODA folder or Hub id")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--max-new-tokens", type=int, default=None, help="default: the model's generation config"
    )
    parser.add_argument("--prompt", default=None, help="text after the image token(s) (default: none)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text: PATH<tab>DESCRIPTION; jsonl/parquet: attributes nested; csv: attributes as columns",
    )
    parser.add_argument(
        "--out", default=None, help="output file (written atomically); default stdout (one process)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="keep what an interrupted run's OUT.parts/ describes"
    )
    parser.add_argument(
        "--review-below",
        type=float,
        default=None,
        metavar="P",
        help="write items whose weakest attribute's confidence is under P, or that state no attribute, "
        "to the review file with the reason",
    )
    parser.add_argument("--review-out", default=None, help="the review file (default: OUT.review.jsonl)")
    parser.add_argument(
        "--split", default=DEFAULT_SPLIT, help="a dataset input's split (default: %(default)s)"
    )
    parser.add_argument(
        "--image-column",
        default=DEFAULT_IMAGE_COLUMN,
        help="a dataset input's image column (default: %(default)s)",
    )
    parser.add_argument("--runtime", choices=["torch", "onnxruntime"], default="torch")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"], default="auto")
    parser.add_argument(
        "--quantize",
        choices=["int8", "q4"],
        default=None,
        help="int8: dynamic int8 linears (CPU, both runtimes); q4: an export's 4-bit decoder (onnxruntime)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads per process (default: physical cores / processes on this machine)",
    )
    parser.add_argument("--max-file-mb", type=float, default=DEFAULT_MAX_FILE_MB, help="skip larger files")
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from modeling_moda.inference.describer import load_describer
    from modeling_moda.inference.inputs import iter_inputs
    from modeling_moda.inference.sharding import (
        DESCRIBER_DTYPES,
        describe_and_merge,
        finished,
        start_processes,
    )

    def refuse(message: str) -> int:
        print(f"moda describe: {message}", file=sys.stderr)
        return 2

    if args.batch_size < 1:
        return refuse("--batch-size must be >= 1")
    if args.resume and args.out is None:
        return refuse("--resume needs --out (the file whose inputs are skipped)")
    if args.format == "parquet" and args.out is None:
        return refuse("--format parquet needs --out (Parquet is a binary file)")
    review_out = args.review_out or (f"{args.out}.review.jsonl" if args.out else None)
    if args.review_below is not None and review_out is None:
        return refuse("--review-below needs --out or --review-out (where the review file goes)")
    processes = start_processes(args.device, args.threads)
    if processes.world_size > 1 and args.out is None:
        return refuse("several processes need --out (each writes its part beside it)")
    if args.resume and finished(args.out):
        if processes.is_main:
            print(
                f"moda describe: {args.out} is complete (no OUT.parts/ to resume); nothing to do",
                file=sys.stderr,
            )
        return 0
    dtype = args.quantize or DESCRIBER_DTYPES[args.dtype]
    try:
        describer = load_describer(
            args.model, args.runtime, dtype=dtype, num_threads=processes.threads, device=processes.device
        )
    except (ValueError, OSError) as e:
        return refuse(f"cannot load the model {args.model}: {e}")

    def items():
        return iter_inputs(args.paths, split=args.split, image_column=args.image_column)

    try:
        result = describe_and_merge(
            describer,
            items,
            args.out,
            args.format,
            processes,
            resume=args.resume,
            review_out=review_out if args.review_below is not None else None,
            review_below=args.review_below,
            batch_size=args.batch_size,
            max_new_tokens=args.max_new_tokens,
            prompt=args.prompt,
            max_file_mb=args.max_file_mb,
            progress=not args.no_progress,
        )
    except ValueError as e:  # an input source that cannot be read (a listing, a dataset)
        return refuse(str(e))
    if result is None:  # not the main process: the main one reports, and its exit code is the run's
        return 0
    where = f" -> {args.out}" if args.out else ""
    print(f"moda describe: {result.described} described, {result.failed} failed{where}", file=sys.stderr)
    if args.review_below is not None:
        print(
            f"moda describe: {result.held} held for review (below {args.review_below:g}) -> {review_out}",
            file=sys.stderr,
        )
    return 1 if result.failed else 0
