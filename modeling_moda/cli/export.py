"""`moda export`: convert a saved MODA for other runtimes.

moda export onnx --model runs/quickstart/model --out runs/quickstart/onnx                # fp32 graphs
moda export onnx --model DIR --out DIR --quantize int8                                  # + int8 graphs
moda export onnx --model DIR --out DIR --quantize int8 q4                 # + a 4-bit decoder (batch-1 speed)

Writes the vision encoder + projector graph, the token embedding graph and a merged decoder with past
key/values (the transformers.js / optimum split) under OUT/onnx, with the tokenizer, processor, config and
a README card; then validates the graphs against PyTorch and reports the largest logit difference.
Run the export with `moda describe --model OUT --runtime onnxruntime`.
"""

from __future__ import annotations

import argparse
import sys

FORMATS = ("onnx",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=FORMATS, help="target format")
    parser.add_argument("--model", required=True, help="saved MODA folder")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--quantize",
        nargs="+",
        choices=["int8", "q4"],
        default=[],
        help="also write int8 graphs (dynamic quantization) and/or a q4 decoder (4-bit weights)",
    )


def run(args: argparse.Namespace) -> int:
    from modeling_moda.inference.onnx_export import export_onnx

    try:
        info = export_onnx(args.model, args.out, quantize=args.quantize)
    except (ValueError, OSError) as e:
        print(f"moda export: cannot export {args.model}: {e}", file=sys.stderr)
        return 2
    for dtype, check in info["validation"].items():
        print(
            f"moda export: {dtype}: max abs logit diff vs PyTorch {check['max_abs_logit_diff']:.3g}, "
            f"argmax agreement {check['greedy_argmax_agreement']:.1%} over {check['positions']} positions"
        )
    print(f"moda export: wrote {args.out} (README.md, onnx_export.json)")
    return 0
