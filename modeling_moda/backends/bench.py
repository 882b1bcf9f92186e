"""Benchmark the offline LLM path: SmolLM2 export, `transformers serve` start-up, reply speed, memory.

    python -m modeling_moda.backends.bench [--out-dir ~/.cache/moda-tests/smollm2-135m-instruct] [--replies 5]

Prints one JSON object: export seconds (0 when the folder is cached), server start-up seconds, seconds per
40-token reply through OpenAIChat (greedy; the prompt asks for a long answer), the server's resident memory,
the same reply through TransformersChat in this process (load seconds, seconds per reply, this process's
memory), and the machine's load average (other work on the machine slows every number). OpenMP threads
wait passively unless OMP_WAIT_POLICY says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from .openai_backend import OpenAIChat
from .smollm2 import LocalOpenAIServer, export_folder
from .transformers_backend import TransformersChat

PROMPT = [{"role": "user", "content": "Write a long, detailed product description of a red cotton t-shirt."}]


def _rss_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_dir = Path.home() / ".cache" / "moda-tests" / "smollm2-135m-instruct"
    parser.add_argument("--out-dir", type=Path, default=default_dir, help="where the exported model lives")
    parser.add_argument("--replies", type=int, default=5, help="40-token replies to time")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see LocalOpenAIServer

    start = time.perf_counter()
    cached = (args.out_dir / "model.safetensors").exists()
    model_dir = export_folder(args.out_dir)
    result: dict[str, object] = {"export_s": 0.0 if cached else round(time.perf_counter() - start, 1)}
    server = LocalOpenAIServer(model_dir)
    with server as url:
        result["server_start_s"] = round(server.startup_s, 1)
        client = OpenAIChat(url, model=None, timeout=600)
        times, tokens = [], []
        for _ in range(args.replies):
            reply = client.chat(PROMPT, max_tokens=40, temperature=0)
            times.append(reply.latency_s)
            tokens.append(reply.usage["completion_tokens"])
        result["reply_40_tokens_s"] = round(statistics.median(times), 2)
        result["reply_40_tokens_all_s"] = [round(t, 2) for t in times]
        result["completion_tokens"] = tokens
        result["server"] = _rss_mb(server.process.pid)
    start = time.perf_counter()
    local = TransformersChat(str(model_dir))
    result["in_process_load_s"] = round(time.perf_counter() - start, 1)
    times = [local.chat(PROMPT, max_tokens=40).latency_s for _ in range(args.replies)]
    result["in_process_reply_40_tokens_s"] = round(statistics.median(times), 2)
    result["in_process"] = _rss_mb(os.getpid())
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    result["cpus"] = os.cpu_count()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
