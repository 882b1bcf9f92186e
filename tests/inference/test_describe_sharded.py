"""`moda describe` under a real `accelerate launch` (2 CPU processes, gloo): the merged output equals a
one-process run byte for byte, a bad image is reported once, and a run SIGKILLed mid-way resumes without
loss or duplicates."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from modeling_moda.cli import main

from .inference_images import COLOURS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_command(verb: str, *args: str) -> list[str]:
    """`moda VERB ARGS` in the README's CPU form (with launch_env's ACCELERATE_USE_CPU=true):
    accelerate launch --multi_gpu --num_processes 2 -m modeling_moda VERB ARGS"""
    accelerate = [sys.executable, "-m", "accelerate.commands.accelerate_cli", "launch"]
    options = ["--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
               "--dynamo_backend", "no", "--main_process_port", str(free_port())]  # fmt: skip
    return [*accelerate, *options, "-m", "modeling_moda", verb, *args]


def describe_command(model_dir: Path, *args: str) -> list[str]:
    return launch_command("describe", "--model", str(model_dir), "--no-progress", *args)


def launch_env() -> dict[str, str]:
    return {**os.environ, "ACCELERATE_USE_CPU": "true"}


def listing(folder: Path, names: list[str]) -> Path:
    path = folder / "listing.jsonl"
    path.write_text("".join(json.dumps({"image": name}) + "\n" for name in names))
    return path


def images_and_bad_file(folder: Path, copies: int) -> list[str]:
    """`copies` rounds of the four colour images (names relative to `folder`), one bad file in the middle."""
    names = [
        p.relative_to(folder).as_posix()
        for p in sorted(folder.rglob("*"))
        if p.suffix in {".jpg", ".png", ".webp"}
    ]
    assert len(names) == len(COLOURS)
    (folder / "bad.jpg").write_text("not a JPEG")
    rounds = [name for _ in range(copies) for name in names]
    return rounds[: len(rounds) // 2] + ["bad.jpg"] + rounds[len(rounds) // 2 :]


def one_process(model_dir: Path, *args: str) -> int:
    return main(["describe", "--model", str(model_dir), "--no-progress", *args])


def test_two_processes_equal_one_process_and_a_bad_image_is_reported_once(
    trained_tiny_dir, image_folder, tmp_path
):
    inputs = listing(image_folder, images_and_bad_file(image_folder, copies=3))  # 13 inputs
    common = ["--format", "jsonl", "--batch-size", "2", "--review-below", "0.9"]
    single = tmp_path / "one" / "out.jsonl"
    assert one_process(trained_tiny_dir, str(inputs), *common, "--out", str(single)) == 1  # 1 failed
    double = tmp_path / "two" / "out.jsonl"
    run = subprocess.run(describe_command(trained_tiny_dir, str(inputs), *common, "--out", str(double)),
                         env=launch_env(), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode != 0, run.stderr  # the main process's exit code: an input failed
    assert "13 described" not in run.stderr and "12 described, 1 failed" in run.stderr, run.stderr
    reported = [line for line in run.stderr.splitlines() if "failed: " in line and "bad.jpg" in line]
    assert len(reported) == 1, run.stderr
    assert double.read_bytes() == single.read_bytes()
    review = Path(str(double) + ".review.jsonl")
    assert review.read_bytes() == Path(str(single) + ".review.jsonl").read_bytes()
    rows = [json.loads(line) for line in double.read_text().splitlines()]
    assert [r["status"] for r in rows].count("failed") == 1 and len(rows) == 13
    assert not Path(str(double) + ".parts").exists()


def complete_lines(parts: Path) -> list[dict]:
    found = []
    for part in parts.glob("part-*.jsonl"):
        text = part.read_text()
        found += [json.loads(line) for line in text.split("\n")[:-1] if line]  # the last piece may be torn
    return found


def test_sigkill_then_resume_redoes_only_the_rest(trained_tiny_dir, image_folder, tmp_path, capsys):
    inputs = listing(image_folder, images_and_bad_file(image_folder, copies=10))  # 41 inputs
    common = ["--format", "csv", "--batch-size", "1"]
    reference = tmp_path / "reference.csv"
    assert one_process(trained_tiny_dir, str(inputs), *common, "--out", str(reference)) == 1

    out = tmp_path / "killed" / "out.csv"
    parts = Path(str(out) + ".parts")
    command = describe_command(trained_tiny_dir, str(inputs), *common, "--out", str(out))
    proc = subprocess.Popen(command, env=launch_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not (parts.is_dir() and len(complete_lines(parts)) >= 6):
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no rows written"
            time.sleep(0.005)
        # both ranks and the launcher, mid-run (torch's launcher starts each rank in its own session)
        tree = [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]
        for process in tree:
            process.send_signal(signal.SIGKILL)
        _, alive = psutil.wait_procs(tree, timeout=60)
        assert not alive
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
    assert not out.exists()
    written = complete_lines(parts)
    described = {r["index"] for r in written if r["status"] == "ok"}
    assert 6 <= len(written) < 41

    # resume in one process: the two ranks' parts are read, only the rest is described
    capsys.readouterr()
    resumed = one_process(trained_tiny_dir, str(inputs), *common, "--out", str(out), "--resume")
    assert resumed == 1
    assert f"resumed: {len(described)} input(s) already described" in capsys.readouterr().err
    assert out.read_bytes() == reference.read_bytes()  # nothing lost, nothing twice, same rows
    assert not parts.exists()
