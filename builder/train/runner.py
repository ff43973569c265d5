"""Run training in a separate process that outlives the browser tab, and follow it from files.

    run_dir = start_training(project)        # spawns `python -m builder.cli train ...`
    read_status(run_dir)["state"]            # loading / running / completed / stopped / failed
    read_metrics(run_dir)                    # rows of metrics.jsonl
    request_stop(run_dir)                    # graceful: finishes the step, saves the adapter

The child writes everything it has to say into the run folder, so any process (the UI after a
reload, the CLI) can pick the run up again.
"""

import os
import subprocess
import sys
from pathlib import Path

from ..project import Project
from ..storage import read_json, read_jsonl
from .loop import STOP_FILE, set_status


def start_training(project: Project) -> Path:
    """Start ``dab train`` for ``project`` in a new process session; return its run folder."""
    run_dir = project.new_run_dir()
    set_status(run_dir, "starting", message="starting the training process")
    log = (run_dir / "train.log").open("ab")
    cmd = [sys.executable, "-m", "builder.cli", "train", "--project", str(project.root), "--run-dir", str(run_dir)]
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    (run_dir / "pid").write_text(str(process.pid))
    return run_dir


def request_stop(run_dir: Path) -> None:
    """Ask a running training to stop after its current step (it still saves the adapter)."""
    (Path(run_dir) / STOP_FILE).write_text("stop requested\n")


def read_status(run_dir: Path) -> dict:
    return read_json(Path(run_dir) / "status.json", default={"state": "unknown"})


def read_metrics(run_dir: Path) -> list[dict]:
    return read_jsonl(Path(run_dir) / "metrics.jsonl")
