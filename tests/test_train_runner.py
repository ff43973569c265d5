"""The background runner with real subprocesses: kill -9 and resume, graceful stop, one at a time.

    .venv/bin/python -m pytest tests/test_train_runner.py -q
"""

import os
import signal
import time

import pytest

from dab.cli import main
from builder.errors import TrainingBusy
from builder.storage import read_jsonl
from builder.train import checkpoint as ckpt
from builder.train.lock import LOCK_FILE
from builder.train.runner import start_training

from .support import copy_project

pytestmark = pytest.mark.slow


def wait_for(predicate, timeout_s: float, poll_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"condition not met within {timeout_s} s")


def test_kill_9_during_checkpoint_save_then_resume(train_template, tmp_path):
    project = copy_project(train_template, tmp_path / "p", max_steps=30, checkpoint_every_steps=1, eval_every_steps=1000)
    run = start_training(project)
    run_dir = run.folder
    pid = int((run_dir / "pid").read_text())
    checkpoints = run_dir / "checkpoints"
    wait_for(lambda: len(ckpt.complete_checkpoints(run_dir)) >= 1, 120)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # aim the kill at a save in progress (a .tmp-step folder)
        if any(p.name.startswith(".tmp-") for p in os.scandir(checkpoints)):
            break
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: run.status()["state"] == "failed", 10)
    status = run.status()
    assert status["resumable"] and "ended unexpectedly" in status["message"]
    last = ckpt.load_latest_checkpoint(run_dir)
    assert last is not None and last.step < 30, "killed before the end"

    start_training(project, resume=run)  # the dead process's lock is stale and taken over
    wait_for(lambda: run.status()["state"] in {"completed", "failed"}, 180, poll_s=0.2)
    assert run.status()["state"] == "completed", (run_dir / "train.log").read_text()[-2000:]
    assert f"resumed from {ckpt.checkpoint_name(last.step)}" in (run_dir / "train.log").read_text()
    steps = [row["step"] for row in read_jsonl(run_dir / "metrics.jsonl") if "loss" in row]
    assert steps == list(range(1, 31)), "every step logged once, none lost or repeated"
    assert not [p for p in checkpoints.iterdir() if p.name.startswith(".tmp-")]
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    wait_for(lambda: not (project.root / LOCK_FILE).exists(), 10)  # released as the process ends, after its status
    assert not (project.root / LOCK_FILE).exists()


def test_graceful_stop_within_10_s_and_one_training_at_a_time(train_template, tmp_path, capsys):
    project = copy_project(train_template, tmp_path / "p", max_steps=100000, eval_every_steps=100000,
                           checkpoint_every_steps=100000)
    run = start_training(project)
    run_dir = run.folder
    wait_for(lambda: run.status().get("step", 0) >= 2, 120)
    with pytest.raises(TrainingBusy, match="already running"):
        start_training(project)
    assert main(["train", "--project", str(project.root)]) == 2
    assert "already running" in capsys.readouterr().err

    asked = time.monotonic()
    assert main(["train", "--project", str(project.root), "--stop"]) == 0
    wait_for(lambda: run.status()["state"] == "stopped", 10)
    assert time.monotonic() - asked < 10
    status = run.status()
    assert 2 <= status["step"] < 100000
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert (run_dir / "checkpoints" / ckpt.checkpoint_name(status["step"])).is_dir(), "a stopped run can resume"
    wait_for(lambda: not (project.root / LOCK_FILE).exists(), 10)
    assert len(list(project.runs_dir.iterdir())) == 1, "the refused starts left no run folder"
