"""Load test of `moda serve` on loopback: N requests at concurrency C (dynamic batching), then one at a time.

    python recipes/benchmark_serving.py --model DIR --dtype int8           # a saved MODA
    python recipes/benchmark_serving.py --model DIR --runtime onnxruntime  # a `moda export onnx` folder
    python recipes/benchmark_serving.py --tiny                              # a tiny random MODA (smoke run)

The server is started here (127.0.0.1, a free port) and stopped at the end. Requests go through the openai
SDK (retries off) with a product-photo-sized image (600x800 JPEG, a few colours) as a data URL, and
`max_tokens` new tokens each. Reports per phase: p50/p95 latency, img/s, the batch sizes seen (response
headers and the server's /metrics), and lost requests (sent but not answered with a chat completion); exits
1 if any request was lost. A random-weight model may write ids its small offline tokenizer cannot spell, i.e.
empty descriptions: they are counted apart (the generation work is the same). Bounded: a fixed number of
requests, a per-request timeout and a deadline for the whole run (requests not sent before it are reported
as not sent, not as lost).
A seed-shaped MODA with random weights for this: `python recipes/benchmark_inference.py --save-reference DIR`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

COLOURS = [(180, 30, 40), (30, 60, 160), (20, 130, 60), (230, 200, 40), (40, 40, 40), (200, 200, 200)]


def product_image_urls() -> list[str]:
    """Garment silhouettes on white, 600x800 like catalog photos, one per colour, as JPEG data URLs."""
    from PIL import Image, ImageDraw

    from modeling_moda.backends.base import image_to_data_url

    urls = []
    for colour in COLOURS:
        image = Image.new("RGB", (600, 800), "white")
        draw = ImageDraw.Draw(image)
        draw.polygon([(150, 150), (450, 150), (520, 300), (440, 330), (440, 700), (160, 700), (160, 330),
                      (80, 300)], fill=colour)  # fmt: skip
        urls.append(image_to_data_url(image))
    return urls


def tiny_model_dir() -> str:
    from modeling_moda.builder import build_tiny_moda

    model, processor = build_tiny_moda(seed=0)
    out = tempfile.mkdtemp(prefix="moda-tiny-")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def get_metrics(base_url: str, api_key: str) -> dict:
    request = urllib.request.Request(
        base_url.removesuffix("/v1") + "/metrics", headers={"Authorization": f"Bearer {api_key}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def run_phase(
    client, model: str, urls: list[str], n: int, concurrency: int, max_tokens: int, deadline: float
):
    """Send n requests with `concurrency` in flight; one result dict per request."""
    import openai

    def one(i: int) -> dict:
        if time.monotonic() > deadline:
            return {"status": "not sent"}
        content = [{"type": "image_url", "image_url": {"url": urls[i % len(urls)]}}]
        start = time.perf_counter()
        try:
            raw = client.chat.completions.with_raw_response.create(
                model=model, messages=[{"role": "user", "content": content}], max_tokens=max_tokens
            )
            reply = raw.parse()
        except openai.OpenAIError as err:
            return {"status": "lost", "error": f"{type(err).__name__}: {err}"[:300]}
        if reply.object != "chat.completion" or not reply.choices or reply.choices[0].message.content is None:
            return {"status": "lost", "error": f"not a chat completion: {str(reply)[:200]}"}
        return {
            "status": "ok",
            "empty": not reply.choices[0].message.content,
            "latency_s": time.perf_counter() - start,
            "batch_size": int(raw.headers.get("x-moda-batch-size", 0)),
            "completion_tokens": reply.usage.completion_tokens,
        }

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(n)))
    return results, time.perf_counter() - start


def summarize(results: list[dict], wall_s: float, before: dict, after: dict) -> dict:
    ok = [r for r in results if r["status"] == "ok"]
    latencies = sorted(r["latency_s"] for r in ok)
    quantiles = (
        statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    )
    histogram = {
        size: after["batch_sizes"].get(size, 0) - before["batch_sizes"].get(size, 0)
        for size in after["batch_sizes"]
    }
    return {
        "sent": sum(r["status"] != "not sent" for r in results),
        "ok": len(ok),
        "lost": sum(r["status"] == "lost" for r in results),
        "empty_descriptions": sum(r["empty"] for r in ok),
        "not_sent": sum(r["status"] == "not sent" for r in results),
        "server_completed": after["completed"] - before["completed"],
        "wall_s": round(wall_s, 2),
        "img_per_s": round(len(ok) / wall_s, 2) if wall_s else 0.0,
        "p50_s": round(quantiles[49], 3) if ok else None,
        "p95_s": round(quantiles[94], 3) if ok else None,
        "mean_completion_tokens": round(statistics.mean(r["completion_tokens"] for r in ok), 1)
        if ok
        else None,
        "batch_sizes_seen": dict(sorted(Counter(r["batch_size"] for r in ok).items())),  # per request
        "server_batches": after["batches"] - before["batches"],
        "server_batch_histogram": {
            size: n for size, n in sorted(histogram.items(), key=lambda kv: int(kv[0])) if n
        },
        "errors": sorted({r["error"] for r in results if r["status"] == "lost"})[:5],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="saved MODA folder or ONNX export folder")
    parser.add_argument("--tiny", action="store_true", help="serve a tiny random MODA (a smoke run)")
    parser.add_argument("--runtime", choices=["torch", "onnxruntime"], default="torch")
    parser.add_argument("--dtype", default="fp32")
    parser.add_argument("--threads", type=int, default=None, help="the server's CPU threads")
    parser.add_argument("--requests", type=int, default=200, help="requests in the concurrent phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sequential-requests", type=int, default=200, help="requests sent one at a time")
    parser.add_argument("--max-batch-size", type=int, default=16)
    parser.add_argument("--batch-window-ms", type=float, default=10.0)
    parser.add_argument("--max-tokens", type=int, default=32, help="new tokens per request (at most)")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="per request")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="deadline for the whole run")
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    args = parser.parse_args()
    if bool(args.model) == args.tiny:
        parser.error("pass --model DIR or --tiny")

    import openai

    from modeling_moda.serving.process import ModaServer

    deadline = time.monotonic() + args.max_seconds
    model_dir = tiny_model_dir() if args.tiny else args.model
    api_key = "benchmark-key"
    os.environ["MODA_BENCHMARK_KEY"] = api_key
    server_args = ["--runtime", args.runtime, "--dtype", args.dtype, "--api-key-env", "MODA_BENCHMARK_KEY"]
    server_args += [
        "--max-batch-size",
        str(args.max_batch_size),
        "--batch-window-ms",
        str(args.batch_window_ms),
    ]
    server_args += ["--max-tokens-limit", str(args.max_tokens)]
    if args.threads:
        server_args += ["--threads", str(args.threads)]
    urls = product_image_urls()
    report: dict = {
        "model": model_dir,
        "runtime": args.runtime,
        "dtype": args.dtype,
        "max_tokens": args.max_tokens,
    }
    with ModaServer(model_dir, extra_args=server_args, startup_timeout=300) as base_url:
        client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=args.timeout_s)
        run_phase(client, model_dir, urls, 2, 1, args.max_tokens, deadline)  # warm-up, not counted
        phases = [
            (f"concurrency {args.concurrency}", args.requests, args.concurrency),
            ("one at a time", args.sequential_requests, 1),
        ]
        for name, n, concurrency in phases:
            before = get_metrics(base_url, api_key)
            results, wall = run_phase(client, model_dir, urls, n, concurrency, args.max_tokens, deadline)
            report[name] = summarize(results, wall, before, get_metrics(base_url, api_key))
    report["load_average"] = os.getloadavg()

    print(json.dumps(report, indent=1))
    names = [name for name, _, _ in phases]
    print("\n| phase | sent | lost | p50 s | p95 s | img/s | batch sizes (batches) |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        r = report[name]
        print(
            f"| {name} | {r['sent']} | {r['lost']} | {r['p50_s']} | {r['p95_s']} | {r['img_per_s']} | "
            f"{r['server_batch_histogram']} |"
        )
    if args.out:
        from modeling_moda.core.io import write_json

        write_json(args.out, report, indent=1)
    lost = sum(report[name]["lost"] for name in names)
    unmatched = [name for name in names if report[name]["server_completed"] != report[name]["ok"]]
    print(f"\nlost requests: {lost}" + (f"; server count differs in {unmatched}" if unmatched else ""))
    return 1 if lost or unmatched else 0


if __name__ == "__main__":
    sys.exit(main())
