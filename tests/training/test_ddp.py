"""Two processes, DDP over gloo on the CPU:
`ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 recipes/train.py RECIPE`.

(accelerate 1.15's `accelerate launch --num_processes 2 --cpu` starts a single process: its multi-CPU path
needs MPI. `--multi_gpu` starts the ranks with torch.distributed.run; ACCELERATE_USE_CPU makes each rank a
CPU rank, so Trainer/accelerate run DDP over gloo.)
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modeling_moda.training.log import read_log

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_process_cpu_run(tiny_recipe, tmp_path):
    recipe = tiny_recipe(num_train_epochs=1, eval_strategy="no", save_strategy="no")
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        str(ROOT / "recipes" / "train.py"), str(recipe),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "run"
    log = read_log(run / "train_log.jsonl")
    # 32 rows / (2 processes x batch 8) = 2 optimizer steps, each seen once by the main process's log
    assert [r["step"] for r in log if "loss" in r] == [1, 2]
    assert (run / "model" / "model.safetensors").exists()
