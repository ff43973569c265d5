"""Run training in a separate process that outlives the browser tab, and follow it from files.

    run_dir = start_training(project)        # spawns `python -m builder.train ...`
    run_dir = start_training(project, resume=run_dir)   # continue from its last checkpoint
    read_status(run_dir)["state"]            # starting / loading / running / completed / stopped / failed
    read_metrics(run_dir)                    # rows of metrics.jsonl
    request_stop(run_dir)                    # graceful: drops the unfinished step, saves, exits

The child writes everything it has to say into the run folder, so any process (the UI after a
reload, the CLI) can pick the run up again. Only one training per project runs at a time: the
project lock is taken here, before the child starts, and handed over to the child's pid.
"""

import sys
from pathlib import Path

from ..errors import TrainingBusy, TrainingError
from ..processes import process_alive, spawn
from ..project import Project
from ..storage import read_json, read_jsonl
from .lock import acquire_lock, active_lock, release_lock
from .loop import STOP_FILE
from .setup import pick_run_dir, set_status

ACTIVE_STATES = {"starting", "loading", "running"}


def start_training(project: Project, resume: Path | None = None) -> Path:
    """Start ``dab train`` for ``project`` in a new process session; return its run folder."""
    lock = active_lock(project.root)
    if lock is not None:
        raise TrainingBusy(f"a training is already running for this project (pid {lock.get('pid')})")
    run_dir = pick_run_dir(project, resume, resume=resume is not None)
    acquire_lock(project.root, run_dir)
    set_status(run_dir, "starting", message="starting the training process")
    cmd = [sys.executable, "-m", "builder.train", "--project", str(project.root), "--run-dir", str(run_dir)]
    try:
        process = spawn(cmd + (["--resume"] if resume else []), run_dir / "train.log", pid_path=run_dir / "pid")
    except OSError as exc:
        release_lock(project.root, run_dir)
        set_status(run_dir, "failed", message=f"could not start the training process: {exc}")
        raise TrainingError(f"could not start the training process: {exc}") from exc
    acquire_lock(project.root, run_dir, pid=process.pid)
    return run_dir


def request_stop(run_dir: Path) -> None:
    """Ask a running training to stop after its current micro-batch (it saves what it finished)."""
    (Path(run_dir) / STOP_FILE).write_text("stop requested\n")


def stop_project_training(project: Project) -> Path:
    """Request a stop of the project's running training; return its run folder."""
    lock = active_lock(project.root)
    if lock is None or not lock.get("run_dir"):
        raise TrainingError("no training is running for this project")
    request_stop(Path(lock["run_dir"]))
    return Path(lock["run_dir"])


def read_status(run_dir: Path) -> dict:
    """The run's status; an active state whose process is gone reads as failed (resumable)."""
    run_dir = Path(run_dir)
    status = read_json(run_dir / "status.json", default={"state": "unknown"})
    if status.get("state") in ACTIVE_STATES and process_gone(run_dir, status):
        status = {**status, "state": "failed", "resumable": True,
                  "message": "the training process ended unexpectedly (see train.log); resume it to continue"}
    return status


def process_gone(run_dir: Path, status: dict) -> bool:
    pid = status.get("pid")
    if pid is None and (run_dir / "pid").is_file():
        pid = int((run_dir / "pid").read_text().strip() or 0)
    return pid is not None and not process_alive(pid)


def read_metrics(run_dir: Path) -> list[dict]:
    return read_jsonl(Path(run_dir) / "metrics.jsonl")
