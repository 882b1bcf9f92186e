"""Write an evaluation run directory: metrics.json, samples.jsonl, report.md and the PNG figures.

All files are written atomically (`core.io`), so a killed run never leaves half a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.io import write_json, write_jsonl, write_text
from .aggregate import group_means
from .metrics import ALL_METRICS, BINARY_METRICS, DISPLAY_NAMES, SampleScore
from .plots import plot_metrics_bar, plot_per_category, plot_sample_grid


def sample_rows(
    ids: Sequence[str],
    references: Sequence[dict],
    predictions: Sequence[Any],
    scores: Sequence[SampleScore],
    others: dict[str, Sequence[SampleScore]] | None = None,
) -> list[dict]:
    """One samples.jsonl row per item: id, reference, prediction, scores, reasons, error (+ other judges)."""
    rows = []
    for k, (item_id, ref, pred, s) in enumerate(zip(ids, references, predictions, scores, strict=True)):
        row = {
            "id": item_id,
            "reference": ref,
            "prediction": pred,
            "judge": s.judge,
            "scores": s.scores,
            "reasons": s.reasons,
            "error": s.error,
        }
        if s.cached:
            row["cached"] = True
        if others:
            row["other_judges"] = {
                name: {"scores": o[k].scores, "reasons": o[k].reasons, "error": o[k].error}
                for name, o in others.items()
            }
        rows.append(row)
    return rows


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _metrics_table(metrics: dict) -> list[str]:
    lines = ["| Metric | Mean (0-10) | 95% CI | n |", "|---|---|---|---|"]
    for m in ALL_METRICS:
        r = metrics[m]
        ci = f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
        lines.append(f"| {DISPLAY_NAMES[m]} | {_fmt(r['mean'])} | {ci} | {r['n']} |")
    return lines


def _agreement_table(agreement: dict) -> list[str]:
    lines = [
        f"Judges **{agreement['judges'][0]}** vs **{agreement['judges'][1]}** on "
        f"{agreement['n_both_scored']} samples both scored "
        "(Cohen's kappa for the binary metrics, mean absolute difference in points for the others).",
        "",
        "| Metric | Cohen's kappa | Raw agreement | Mean abs. diff | n |",
        "|---|---|---|---|---|",
    ]
    for m in ALL_METRICS:
        r = agreement[m]
        if m in BINARY_METRICS:
            lines.append(
                f"| {DISPLAY_NAMES[m]} | {_fmt(r['kappa'], 3)} | {_fmt(r['agreement'], 3)} | | {r['n']} |"
            )
        else:
            lines.append(f"| {DISPLAY_NAMES[m]} | | | {_fmt(r['mean_abs_diff'])} | {r['n']} |")
    return lines


def _sample_lines(rows: Sequence[dict], title: str) -> list[str]:
    lines = [f"### {title}", ""]
    for r in rows:
        reasons = "; ".join(f"{k}: {v}" for k, v in r["reasons"].items())
        lines.append(f"- `{r['id']}` overall {_fmt(r['scores']['overall'])}: “{r['prediction']}” — {reasons}")
    return lines + [""]


def write_report(
    out_dir: str | Path,
    rows: Sequence[dict],
    scores: Sequence[SampleScore],
    metrics: dict,
    run_info: dict,
    images: Sequence[Any] | None = None,
    agreement: dict | None = None,
    tally: dict | None = None,
    grid_size: int = 12,
    category_field: str = "article_type",
    timings: dict | None = None,
) -> dict[str, Path]:
    """Write every output of one evaluation; returns {name: path}.

    Wall times go to timings.json, not metrics.json: the same run twice gives a byte-identical metrics.json.
    """
    out = Path(out_dir)
    files: dict[str, Path] = {}
    payload = {"run": run_info, "metrics": metrics}
    if tally:
        payload["judge_usage"] = tally
    if agreement:
        payload["agreement"] = agreement
    files["metrics"] = write_json(out / "metrics.json", payload)
    if timings:
        files["timings"] = write_json(out / "timings.json", timings)
    files["samples"] = write_jsonl(out / "samples.jsonl", rows)
    files["metrics_png"] = plot_metrics_bar(
        metrics, out / "metrics.png", title=f"MODA — {run_info.get('judge', '')} judge"
    )
    groups = [str(r["reference"].get(category_field) or "unknown") for r in rows]
    table = group_means(scores, groups)
    if table:
        files["per_category_png"] = plot_per_category(table, out / "per_category.png")
    scored = [k for k, s in enumerate(scores) if s.scored]
    if images is not None and scored:
        pick = scored[:grid_size]
        files["samples_png"] = plot_sample_grid(
            [images[k] for k in pick],
            [rows[k]["prediction"] if isinstance(rows[k]["prediction"], str) else "" for k in pick],
            [scores[k].scores for k in pick],
            out / "samples.png",
            captions=[f"{rows[k]['id']} · {rows[k]['reference'].get(category_field) or ''}" for k in pick],
        )

    md = ["# MODA evaluation report", ""]
    md += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in {**run_info, **(timings or {})}.items()]
    md += [""]
    md += [
        f"Scored {metrics['n_scored']} of {metrics['n_samples']} samples ({metrics['n_unscored']} unscored).",
        "",
    ]
    md += ["## Metrics", ""] + _metrics_table(metrics) + ["", "![metrics](metrics.png)", ""]
    if "per_category_png" in files:
        md += ["## Per article type", "", "![per category](per_category.png)", ""]
    if "samples_png" in files:
        md += ["## Sample descriptions", "", "![samples](samples.png)", ""]
    if agreement:
        md += ["## Judge agreement", ""] + _agreement_table(agreement) + [""]
    if tally:
        md += ["## Judge usage", ""] + [f"- {k}: {v}" for k, v in tally.items()] + [""]
    ranked = sorted(
        (r for r in rows if r["error"] is None and r["scores"]["overall"] is not None),
        key=lambda r: r["scores"]["overall"],
    )
    if ranked:
        md += (
            ["## Examples", ""]
            + _sample_lines(ranked[-3:][::-1], "Best")
            + _sample_lines(ranked[:3], "Worst")
        )
    errors = [r for r in rows if r["error"] is not None]
    if errors:
        md += ["## Unscored samples", ""] + [f"- `{r['id']}`: {r['error']}" for r in errors[:20]] + [""]
    files["report"] = write_text(out / "report.md", "\n".join(md))
    return files
