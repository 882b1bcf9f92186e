"""Scale benchmark: `moda describe` img/s against the number of processes on this machine, for PyTorch int8
and ONNX Runtime int8, and a paper plan for describing 10 million photos.

What is measured: the real command, end to end, on the seed-shaped MODA (CLIP ViT-B/32 -> MLP -> OPT-125M,
random weights, built and exported as `benchmark_inference.py` does: `prepare_onnx`), on catalog-sized
photos (600x800 JPEGs) in a folder:

    python -m modeling_moda describe --model M photos/ --out out.jsonl ...                       # 1 process
    ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes P -m modeling_moda describe ...

Each setting runs twice, on N and on 2N photos; the rate is N / (t(2N) - t(N)), the marginal throughput,
so process start, model loading and the merge (paid once per run) drop out. Both wall times are printed too.
Random weights write no EOS, so every description runs to the model's max new tokens (`--max-new-tokens`):
a worst case for the token count. Numbers are only comparable within one run on one machine; the load
average is printed because other processes on a shared machine make them noisy.

What is extrapolated: the 10-million-photo plan. It takes the best measured rate per physical core and
assumes throughput grows linearly with cores (what the 1 -> 2 process rows check, on this machine only)
for 16-, 32- and 64-core CPU nodes; data-parallel describing has no communication between processes, so
machines add up linearly. GPU rows are not measured here: pass `--gpu-img-s R` (one GPU's img/s, measured
elsewhere) and the plan gives one and eight GPUs (eight = 8 x R, one process per GPU).

    python recipes/benchmark_scale.py                                    # seed shape, 1 and 2 processes
    python recipes/benchmark_scale.py --images 64 --processes 1 2 --gpu-img-s 400
    python recipes/benchmark_scale.py --tiny --images 8 --max-new-tokens 8     # a quick check the script runs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchmark_inference as bench  # noqa: E402  (a sibling script: the seed-shaped model and its export)

PHOTOS = 10_000_000
NODE_CORES = (16, 32, 64)
RUNTIMES = {  # name -> (model folder inside the prepared dir, moda describe options)
    "torch-int8": ("torch", ["--runtime", "torch", "--quantize", "int8"]),
    "onnx-int8": ("onnx", ["--runtime", "onnxruntime", "--quantize", "int8"]),
}


def prepare_tiny(out: str) -> None:
    """A tiny MODA (builder.build_tiny_moda) saved to OUT/torch and exported to OUT/onnx with int8."""
    from modeling_moda.builder import build_tiny_moda
    from modeling_moda.inference.onnx_export import export_onnx

    model, processor = build_tiny_moda(seed=0)
    model.save_pretrained(os.path.join(out, "torch"))
    processor.save_pretrained(os.path.join(out, "torch"))
    export_onnx(os.path.join(out, "torch"), os.path.join(out, "onnx"), quantize=["int8"])


def write_photos(folder: str, n: int) -> None:
    """`n` catalog-sized JPEGs, the benchmark's varied garment photos in turn."""
    os.makedirs(folder, exist_ok=True)
    images = bench.varied_images()
    for i in range(n):
        images[i % len(images)].save(os.path.join(folder, f"{i:06d}.jpg"), quality=90)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def describe_command(processes: int, describe_args: list[str]) -> list[str]:
    if processes == 1:
        return [sys.executable, "-m", "modeling_moda", "describe", *describe_args]
    launch = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch", "--multi_gpu",
              "--num_processes", str(processes), "--num_machines", "1", "--mixed_precision", "no",
              "--dynamo_backend", "no", "--main_process_port", str(free_port())]  # fmt: skip
    return [*launch, "-m", "modeling_moda", "describe", *describe_args]


def timed_run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def measure(prepared: str, work: str, runtime: str, processes: int, args: argparse.Namespace) -> dict:
    folder, options = RUNTIMES[runtime]
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "HF_HUB_OFFLINE": "1"}
    walls = {}
    for n in (args.images, 2 * args.images):
        out = os.path.join(work, f"out-{runtime}-{processes}-{n}.jsonl")
        describe_args = ["--model", os.path.join(prepared, folder), os.path.join(work, f"photos-{n}"),
                         *options, "--batch-size", str(args.batch_size), "--max-new-tokens",
                         str(args.max_new_tokens), "--format", "jsonl", "--out", out,
                         "--no-progress"]  # fmt: skip
        if args.threads:
            describe_args += ["--threads", str(args.threads)]
        time.sleep(args.cooldown)
        walls[n] = timed_run(describe_command(processes, describe_args), env)
    marginal = walls[2 * args.images] - walls[args.images]
    threads = args.threads or max(1, bench_cores() // processes)
    return {
        "runtime": runtime,
        "processes": processes,
        "threads_per_process": threads,
        "wall_n_s": round(walls[args.images], 2),
        "wall_2n_s": round(walls[2 * args.images], 2),
        "img_s": round(args.images / marginal, 3) if marginal > 0 else None,
        "cores": min(bench_cores(), processes * threads),
    }


def bench_cores() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def print_table(rows: list[dict], n: int) -> None:
    print(f"\n| runtime | processes | threads/process | wall {n} photos (s) | wall {2 * n} photos (s) "
          "| img/s (marginal) | img/s per core |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        rate = r["img_s"]
        per_core = "n/a" if rate is None else f"{rate / r['cores']:.2f}"
        shown = "n/a" if rate is None else f"{rate:.2f}"
        print(f"| {r['runtime']} | {r['processes']} | {r['threads_per_process']} | {r['wall_n_s']:.1f} | "
              f"{r['wall_2n_s']:.1f} | {shown} | {per_core} |")  # fmt: skip


def print_plan(rows: list[dict], gpu_img_s: float | None) -> None:
    measured = [r for r in rows if r["img_s"]]
    if not measured:
        print("\nno rate measured (the 2N run was not slower than the N run): use more --images")
        return
    best = max(measured, key=lambda r: r["img_s"] / r["cores"])
    per_core = best["img_s"] / best["cores"]
    print(f"\n## Plan for {PHOTOS:,} photos (extrapolated)")
    print(f"Measured: {best['runtime']}, {best['processes']} process(es) on {best['cores']} core(s): "
          f"{best['img_s']:.2f} img/s = {per_core:.2f} img/s per physical core on this machine.")  # fmt: skip
    print("Extrapolated: linear in cores within a node and in machines (no communication between ranks).\n")
    print("| node | img/s per node | node-hours | machines for 24 h | hours on 10 machines |")
    print("|---|---:|---:|---:|---:|")
    for cores in NODE_CORES:
        node = per_core * cores
        node_hours = PHOTOS / node / 3600
        print(f"| CPU, {cores} cores | {node:.0f} | {node_hours:,.0f} | {-(-node_hours // 24):.0f} | "
              f"{node_hours / 10:,.1f} |")  # fmt: skip
    if gpu_img_s is None:
        print("| 1 GPU | not measured | | | |\n| 8 GPUs | not measured | | | |")
        print("GPU rows: pass --gpu-img-s R (one GPU's img/s, measured elsewhere) to fill them in.")
        return
    for gpus in (1, 8):
        hours = PHOTOS / (gpu_img_s * gpus) / 3600
        print(f"| {gpus} GPU(s), one machine | {gpu_img_s * gpus:.0f} (given: {gpu_img_s:g} per GPU) | "
              f"{hours:,.1f} | {-(-hours // 24):.0f} | {hours / 10:,.2f} |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )  # fmt: skip
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="process counts to run")
    parser.add_argument("--runtimes", nargs="+", default=list(RUNTIMES), choices=list(RUNTIMES))
    parser.add_argument("--images", type=int, default=128, help="N: each setting runs N and 2N photos")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=32, help="tokens per description")
    parser.add_argument("--threads", type=int, default=None, help="per process (default: cores/processes)")
    parser.add_argument("--cooldown", type=float, default=30.0, help="idle seconds before each run")
    parser.add_argument("--gpu-img-s", type=float, default=None, help="one GPU's img/s, measured elsewhere")
    parser.add_argument("--tiny", action="store_true", help="a tiny MODA instead of the seed shape (checks)")
    parser.add_argument(
        "--prepared", help="keep the model and its export in this folder, and reuse them if it holds them"
    )
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="moda-bench-scale-")
    prepared = args.prepared or os.path.join(work, "model")
    if not os.path.isfile(os.path.join(prepared, "onnx", "onnx_export.json")):
        print(
            f"preparing the {'tiny' if args.tiny else 'seed-shaped'} MODA and its ONNX export ...", flush=True
        )
        if args.tiny:
            prepare_tiny(prepared)
        else:
            bench.prepare_onnx(prepared)
    for n in (args.images, 2 * args.images):
        write_photos(os.path.join(work, f"photos-{n}"), n)
    print(f"{bench_cores()} physical cores; {args.max_new_tokens} new tokens per photo, batch "
          f"{args.batch_size}; load average before: {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    rows = []
    for runtime in args.runtimes:
        for processes in args.processes:
            rows.append(measure(prepared, work, runtime, processes, args))
            print(f"  {json.dumps(rows[-1])}", flush=True)
    shutil.rmtree(work)  # photos, outputs, and the model unless --prepared named a folder to keep
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print_table(rows, args.images)
    print_plan(rows, args.gpu_img_s)
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(rows, f, indent=2)
        os.replace(args.json + ".tmp", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
