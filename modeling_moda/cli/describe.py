"""`moda describe`: describe product photos with a trained MODA, streaming through any number of inputs.

moda describe --model runs/quickstart/model photos/ more/*.jpg listing.csv --format jsonl --out out.jsonl
moda describe --model DIR shoes.jsonl --out out.csv --format csv --resume      # skip what out.csv has
moda describe --model DIR photos/ --quantize int8                               # int8 weights on a CPU
moda describe --model ONNX_DIR photos/ --runtime onnxruntime [--quantize int8|q4]  # `moda export onnx` folder

PATH: image files, folders (recursive), glob patterns (quote them), or CSV/JSONL listings with an
`image`/`path` column. Bad inputs (missing, empty, truncated, not an image, too large) are reported on
stderr, written as failed rows, and the run goes on; the exit code is 1 if any input failed.
"""

from __future__ import annotations

import argparse
import sys

# --dtype -> load_describer's dtype names
DESCRIBER_DTYPES = {"auto": "auto", "float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from modeling_moda.inference.loading import DEFAULT_MAX_FILE_MB
    from modeling_moda.inference.output import FORMATS

    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="images, folders, globs, .csv/.jsonl listings"
    )
    parser.add_argument("--model", required=True, help="saved MODA folder or Hub id")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--max-new-tokens", type=int, default=None, help="default: the model's generation config"
    )
    parser.add_argument("--prompt", default=None, help="text after the image token(s) (default: none)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="text: PATH<tab>DESCRIPTION")
    parser.add_argument("--out", default=None, help="output file (written atomically); default stdout")
    parser.add_argument("--resume", action="store_true", help="skip inputs that --out already describes")
    parser.add_argument("--runtime", choices=["torch", "onnxruntime"], default="torch")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"], default="auto")
    parser.add_argument(
        "--quantize",
        choices=["int8", "q4"],
        default=None,
        help="int8: dynamic int8 linears (CPU, both runtimes); q4: an export's 4-bit decoder (onnxruntime)",
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: physical cores)")
    parser.add_argument("--max-file-mb", type=float, default=DEFAULT_MAX_FILE_MB, help="skip larger files")
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from modeling_moda.core.lexicon import extract_attributes
    from modeling_moda.inference.describer import load_describer
    from modeling_moda.inference.inputs import iter_inputs
    from modeling_moda.inference.loading import iter_loaded_batches
    from modeling_moda.inference.output import ResultWriter, Row

    if args.batch_size < 1:
        print("moda describe: --batch-size must be >= 1", file=sys.stderr)
        return 2
    if args.resume and args.out is None:
        print("moda describe: --resume needs --out (the file whose inputs are skipped)", file=sys.stderr)
        return 2
    dtype = args.quantize or DESCRIBER_DTYPES[args.dtype]
    try:
        describer = load_describer(
            args.model, args.runtime, dtype=dtype, num_threads=args.threads, device=args.device
        )
    except (ValueError, OSError) as e:
        print(f"moda describe: cannot load the model {args.model}: {e}", file=sys.stderr)
        return 2
    writer = ResultWriter(args.out, args.format, resume=args.resume)
    if writer.done:
        print(f"moda describe: resuming: {len(writer.done)} input(s) already described", file=sys.stderr)

    items = (item for item in iter_inputs(args.paths) if item.path not in writer.done)
    load_image = describer.processor.load_image
    batches = iter_loaded_batches(items, load_image, args.batch_size, int(args.max_file_mb * 2**20))
    described = 0
    with tqdm(desc="describe", unit="img", disable=args.no_progress, file=sys.stderr) as bar:
        for batch in batches:
            rows = []
            for path, reason in batch.failed:
                bar.write(f"moda describe: failed: {path}: {reason}", file=sys.stderr)
                rows.append(Row(path, error=reason))
            if batch.images:
                texts = describer.describe(
                    batch.images, max_new_tokens=args.max_new_tokens, prompt=args.prompt
                )
                attrs = [extract_attributes(t) if args.format == "jsonl" else None for t in texts]
                rows += [
                    Row(p, description=t, attributes=a)
                    for p, t, a in zip(batch.paths, texts, attrs, strict=True)
                ]
            writer.write(rows)
            described += len(batch.images)
            bar.update(len(rows))
    writer.close()
    where = f" -> {args.out}" if args.out else ""
    print(f"moda describe: {described} described, {writer.failed} failed{where}", file=sys.stderr)
    return 1 if writer.failed else 0
