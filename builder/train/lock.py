"""One training per project: a lock file holding the pid and run folder of the training.

    lock = acquire_lock(project.root, run_dir)   # raises TrainingBusy if a live training holds it
    ...
    release_lock(project.root, run_dir)

The lock is ``<project>/train.lock``, created with ``O_CREAT | O_EXCL`` so two starters cannot
both win. A lock whose process is gone (killed with ``kill -9``, machine rebooted, a zombie
nobody reaped; ``processes.process_alive``) is stale and is taken over. What it does not cover:
a pid reused by an unrelated process after a crash keeps the lock until that process ends;
projects on a network drive shared by two machines (the pid means nothing on the other machine).
"""

import json
import os
import time
from pathlib import Path

from ..errors import TrainingBusy
from ..processes import process_alive
from ..storage import write_json

LOCK_FILE = "train.lock"


def lock_path(project_root: Path) -> Path:
    return Path(project_root) / LOCK_FILE


def read_lock(project_root: Path) -> dict | None:
    """The lock's contents (pid, run_dir), or None when there is no readable lock."""
    try:
        return json.loads(lock_path(project_root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def active_lock(project_root: Path) -> dict | None:
    """The lock if a live process holds it; a stale lock is removed and None returned."""
    lock = read_lock(project_root)
    if lock is None and recently_written(lock_path(project_root)):
        return {"pid": None, "run_dir": None}  # being written right now by another starter
    if lock is None or not process_alive(lock.get("pid")):
        lock_path(project_root).unlink(missing_ok=True)
        return None
    return lock


def acquire_lock(project_root: Path, run_dir: Path, pid: int | None = None) -> dict:
    """Take the project's training lock for ``run_dir`` (a lock already naming it is taken over)."""
    pid = pid or os.getpid()
    record = {"pid": pid, "run_dir": str(run_dir)}
    for _ in range(2):  # second try after removing a stale lock
        try:
            fd = os.open(lock_path(project_root), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            lock = active_lock(project_root)
            if lock is None:
                continue
            if lock.get("run_dir") == str(run_dir):
                write_json(lock_path(project_root), record)
                return record
            raise busy_error(lock)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        return record
    raise TrainingBusy("could not take the training lock; another training is starting right now")


def busy_error(lock: dict) -> TrainingBusy:
    """The error for a start refused because ``lock`` is held by a live training."""
    return TrainingBusy(f"a training is already running for this project (run {Path(str(lock.get('run_dir'))).name},"
                        f" pid {lock.get('pid')}); stop it or wait for it to finish")


def release_lock(project_root: Path, run_dir: Path) -> None:
    """Remove the lock if it still belongs to ``run_dir``."""
    lock = read_lock(project_root)
    if lock is not None and lock.get("run_dir") == str(run_dir):
        lock_path(project_root).unlink(missing_ok=True)


def recently_written(path: Path, within_s: float = 10.0) -> bool:
    try:
        return time.time() - path.stat().st_mtime < within_s
    except OSError:
        return False
