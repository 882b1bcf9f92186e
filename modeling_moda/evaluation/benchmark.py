"""Rules-judge throughput: `python -m modeling_moda.evaluation.benchmark [--n 5000]` prints samples/s.

The samples are the fidelity fixture's (metadata, description) pairs repeated to `n` (single process).
"""

from __future__ import annotations

import argparse
import json
import time
from importlib import resources

from .rules_judge import RulesJudge

# hand-scored (metadata, description, expected scores) cases; tests/evaluation/test_fidelity.py reads them too
FIXTURE = resources.files(__package__) / "fidelity_cases.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    cases = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    preds = [cases[i % len(cases)]["prediction"] for i in range(args.n)]
    refs = [cases[i % len(cases)]["reference"] for i in range(args.n)]
    judge = RulesJudge()
    best, best_cpu = float("inf"), float("inf")
    for _ in range(args.repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        judge.score(preds, refs)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    print(
        f"rules judge, {args.n} samples (best of {args.repeats}): {best:.3f} s wall = {args.n / best:,.0f} "
        f"samples/s; {best_cpu:.3f} s CPU = {args.n / best_cpu:,.0f} samples per CPU-second"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
