"""`moda serve`: an OpenAI-compatible server for a saved MODA (or a `moda export onnx` folder).

moda serve runs/quickstart/model                                   # http://127.0.0.1:8000/v1
moda serve runs/quickstart/model --api-key-env MODA_API_KEY --host 0.0.0.0 --dtype int8
moda serve runs/onnx --runtime onnxruntime --max-batch-size 32 --batch-window-ms 20

POST /v1/chat/completions with an image content part (a base64 data URL) returns MODA's description;
concurrent requests are batched (`--max-batch-size`, `--batch-window-ms`); `stream: true` streams it.
GET /v1/models, /health, /metrics (batch-size histogram and counters).
"""

from __future__ import annotations

import argparse
import os
import sys

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="saved MODA folder (torch) or ONNX export folder")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--api-key", default=None, help="require `Authorization: Bearer KEY` (prefer --api-key-env)"
    )
    parser.add_argument("--api-key-env", default=None, help="read the required API key from this variable")
    parser.add_argument("--runtime", choices=["torch", "onnxruntime"], default="torch")
    parser.add_argument(
        "--dtype", default="fp32", help="fp32 or int8 (both runtimes); q4 (onnxruntime); bf16, fp16 (torch)"
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the model")
    parser.add_argument(
        "--served-model-name", default=None, help="the model id clients send (default: MODEL)"
    )
    parser.add_argument("--max-batch-size", type=int, default=16, help="requests per describe call")
    parser.add_argument("--batch-window-ms", type=float, default=10.0, help="how long a batch waits to fill")
    parser.add_argument("--max-queue", type=int, default=1024, help="waiting requests before 503s")
    parser.add_argument("--max-tokens-limit", type=int, default=256, help="cap on a request's max_tokens")
    parser.add_argument("--max-image-mb", type=float, default=20.0, help="largest image accepted (encoded)")
    parser.add_argument("--allow-remote-images", action="store_true", help="fetch http(s) image URLs")
    parser.add_argument("--allow-local-files", action="store_true", help="read file:// and plain image paths")
    parser.add_argument(
        "--use-request-text",
        action="store_true",
        help="pass a request's text parts to the model as its prompt (default: ignored; MODA is a "
        "captioner trained with --prompt, and a chat instruction it never saw would derail it)",
    )
    parser.add_argument(
        "--prompt", default=None, help="the prompt the model was trained with (default: none)"
    )
    parser.add_argument("--log-level", default="info", help="uvicorn log level")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from modeling_moda.inference.describer import load_describer
    from modeling_moda.serving.app import ServeSettings, create_app
    from modeling_moda.serving.images import ImagePolicy
    from modeling_moda.serving.usage import load_token_counter

    api_key = args.api_key
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            print(f"moda serve: --api-key-env {args.api_key_env} is not set", file=sys.stderr)
            return 2
    if api_key is None and args.host not in LOOPBACK:
        print(f"moda serve: warning: {args.host} is not loopback and no API key is set", file=sys.stderr)
    if args.max_batch_size < 1 or args.batch_window_ms < 0:
        print("moda serve: --max-batch-size must be >= 1 and --batch-window-ms >= 0", file=sys.stderr)
        return 2
    try:
        describer = load_describer(args.model, args.runtime, dtype=args.dtype, num_threads=args.threads)
        counter = load_token_counter(args.model)
    except (ValueError, OSError, ImportError) as err:
        print(f"moda serve: cannot load the model {args.model}: {err}", file=sys.stderr)
        return 2
    settings = ServeSettings(
        # the id clients send: MODEL as given (as vLLM does), also for an ONNX export of another folder
        model_name=args.served_model_name or args.model,
        api_key=api_key,
        max_batch_size=args.max_batch_size,
        batch_window_ms=args.batch_window_ms,
        max_queue=args.max_queue,
        max_tokens_limit=args.max_tokens_limit,
        use_request_text=args.use_request_text,
        prompt=args.prompt,
        images=ImagePolicy(
            max_bytes=int(args.max_image_mb * 2**20),
            allow_remote=args.allow_remote_images,
            allow_local_files=args.allow_local_files,
        ),
    )
    app = create_app(describer, counter, settings)
    print(
        f"moda serve: {settings.model_name} ({args.runtime}, {args.dtype}) on "
        f"http://{args.host}:{args.port}/v1",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
