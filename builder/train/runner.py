"""Run training in a separate process that outlives the browser tab, and follow it from files.

    run = start_training(project)              # spawns `python -m builder.train ...`
    run = start_training(project, resume=run)  # continue from its last checkpoint
    run.status()["state"]                      # starting / loading / running / completed / stopped / failed
    run.metrics()                              # rows of metrics.jsonl
    run.request_stop()                         # graceful: drops the unfinished step, saves, exits

The child writes everything it has to say into the run folder (``runs.Run``), so any process
(the UI after a reload, the CLI) can pick the run up again. Only one training per project runs
at a time: the project lock is taken here, before the child starts, and handed over to the
child (``lock``: its token in the child's environment).
"""

import sys
from pathlib import Path

from ..errors import TrainingError
from ..processes import spawn
from ..project import Project
from ..runs import Run
from .lock import HANDOFF_ENV, acquire_lock, active_lock, release_lock
from .setup import claim_run


def start_training(project: Project, resume: Run | None = None) -> Run:
    """Start ``python -m builder.train`` for ``project`` in a new process session; return its run.

    The lock is claimed here (TrainingBusy when a training holds it) and handed to the child:
    its token goes in the child's environment, the lock names the child's pid once it runs."""
    run, lock = claim_run(project, resume.folder if resume else None, resume=resume is not None)
    run.write_status("starting", message="starting the training process")
    cmd = [sys.executable, "-m", "builder.train", "--project", str(project.root), "--run-dir", str(run.folder)]
    try:
        process = spawn(cmd + (["--resume"] if resume else []), run.log_path, pid_path=run.pid_path,
                        env={HANDOFF_ENV: lock["token"]})
    except OSError as exc:
        release_lock(project.root, run.folder)
        run.write_status("failed", message=f"could not start the training process: {exc}")
        raise TrainingError(f"could not start the training process: {exc}") from exc
    acquire_lock(project.root, run.folder, pid=process.pid, token=lock["token"])
    return run


def stop_project_training(project: Project) -> Run:
    """Request a stop of the project's running training; return its run."""
    lock = active_lock(project.root)
    if lock is None or not lock.get("run_dir"):
        raise TrainingError("no training is running for this project")
    run = Run(Path(lock["run_dir"]))
    run.request_stop()
    return run
