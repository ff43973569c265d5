"""Data-parallel training under `accelerate launch`: 2 CPU processes (gloo), one adapter.

    .venv/bin/python -m pytest tests/test_train_ddp.py -q
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from builder.storage import read_json

from .support import build_template, copy_project, free_port

pytestmark = pytest.mark.slow


def test_two_cpu_ranks_train_in_sync_and_save_one_adapter(tmp_path, tiny_model_dir):
    template = build_template(tmp_path / "template", tiny_model_dir)
    project = copy_project(template, tmp_path / "p", max_steps=4, eval_every_steps=2)
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
           "-m", "builder.train", "--project", str(project.root)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path.cwd())}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]

    ranks = dict(re.findall(r"rank (\d)/2: trained to step 4, \d+ tokens, LoRA checksum ([\d.]+)", output))
    assert set(ranks) == {"0", "1"}, output[-3000:]
    assert ranks["0"] == ranks["1"], "both ranks applied the same averaged updates"
    runs = list(project.runs_dir.iterdir())
    assert len(runs) == 1, "both ranks wrote into one run folder"
    adapters = list(project.root.rglob("adapter_model.safetensors"))
    assert [p.parent.name for p in adapters if p.parent.name == "adapter"] == ["adapter"]
    status = read_json(runs[0] / "status.json")
    assert status["state"] == "completed" and status["step"] == 4
    assert read_json(runs[0] / "data.json")["train_pairs"] > 50
