"""`moda evaluate` under a real `accelerate launch` (2 CPU processes): each rank describes its share, the
main process merges and judges; the run's files equal a one-process run's byte for byte."""

from __future__ import annotations

import subprocess
from pathlib import Path

from modeling_moda.cli import main
from tests.inference.test_describe_sharded import launch_command, launch_env


def evaluate_args(model_dir: Path, dataset_dir: Path, out: Path) -> list[str]:
    return ["--model", str(model_dir), "--dataset", str(dataset_dir), "--split", "test", "--limit", "6",
            "--max-new-tokens", "12", "--batch-size", "2", "--out", str(out)]  # fmt: skip


def test_two_processes_evaluate_like_one(tiny_model_dir, eval_dataset_dir, tmp_path):
    single = tmp_path / "one"
    assert main(["evaluate", *evaluate_args(tiny_model_dir, eval_dataset_dir, single)]) == 0
    double = tmp_path / "two"
    command = launch_command("evaluate", *evaluate_args(tiny_model_dir, eval_dataset_dir, double))
    run = subprocess.run(command, env=launch_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Overall" in run.stdout and run.stdout.count("report:") == 1  # only the main process reports
    for name in ("descriptions.jsonl", "samples.jsonl", "metrics.json"):
        assert (double / name).read_bytes() == (single / name).read_bytes(), name
    assert not (double / "descriptions.jsonl.parts").exists()
