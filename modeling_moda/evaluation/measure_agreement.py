"""Rules judge vs an LLM judge on the hand-scored fidelity pairs:

    python -m modeling_moda.evaluation.measure_agreement --base-url http://127.0.0.1:8000/v1 [--n 12]

Prints the agreement table (Cohen's kappa for binary metrics, mean absolute difference for ratios) and each
judge's agreement with the hand scores; writes the per-sample scores to --out (JSON).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.io import write_json
from . import get_judge
from .agreement import compare
from .benchmark import FIXTURE
from .metrics import ALL_METRICS, SampleScore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--n", type=int, default=12, help="fixture pairs to judge (spread over the fixture)")
    parser.add_argument("--max-tokens", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--cache", default="judge_agreement_cache.jsonl")
    parser.add_argument("--out", default="judge_agreement.json")
    args = parser.parse_args(argv)
    cases = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    step = max(1, len(cases) // args.n)
    cases = cases[::step][: args.n]
    preds = [c["prediction"] for c in cases]
    refs = [c["reference"] for c in cases]
    hand = [SampleScore(judge="hand", scores=c["expected"]) for c in cases]
    rules = get_judge("rules").score(preds, refs)
    llm_judge = get_judge(
        "openai",
        base_url=args.base_url,
        model=args.model,
        cache_path=args.cache,
        max_tokens=args.max_tokens,
        timeout=args.timeout,
        max_concurrency=1,
        progress=True,
    )
    llm = llm_judge.score(preds, refs)
    result = {
        "rules_vs_llm": compare(rules, llm),
        "hand_vs_rules": compare(hand, rules),
        "hand_vs_llm": compare(hand, llm),
        "llm_tally": llm_judge.tally(),
        "samples": [
            {"id": c["id"], "hand": c["expected"], "rules": r.scores, "llm": s.scores, "llm_error": s.error}
            for c, r, s in zip(cases, rules, llm, strict=True)
        ],
    }
    write_json(Path(args.out), result)
    for name in ("rules_vs_llm", "hand_vs_rules", "hand_vs_llm"):
        r = result[name]
        cells = []
        for m in ALL_METRICS:
            v = r[m].get("kappa", r[m].get("mean_abs_diff"))
            kind = "kappa" if "kappa" in r[m] else "MAD"
            cells.append(f"{m} {kind}={'n/a' if v is None else f'{v:.2f}'}")
        print(f"{name} (n={r['n_both_scored']}): " + "; ".join(cells))
    print(f"LLM judge: {result['llm_tally']}; unscored {sum(not s.scored for s in llm)}/{len(llm)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
