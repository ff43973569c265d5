"""One training per project: a lock file naming the process and run folder of the training.

    lock = acquire_lock(project.root, run_dir)   # raises TrainingBusy if a live training holds it
    spawn(cmd, log, env={HANDOFF_ENV: lock["token"]})                  # the child may take it over
    acquire_lock(project.root, run_dir, pid=child_pid, token=lock["token"])
    ...
    release_lock(project.root, run_dir)

The lock is ``<project>/train.lock`` (JSON: pid, run_dir, token). Every look at it and every
change of it happens under ``<project>/.train.lock.guard`` (``storage.exclusive_lock``), so
checking and taking are one step: of two claims, however close in time, in two processes or two
threads, exactly one wins. A live lock is taken over only by a claimant that presents its
``token``: the runner hands the token to the training process it starts (environment variable
``HANDOFF_ENV``), nobody else has it. A lock whose process is gone (killed with ``kill -9``,
machine rebooted, a zombie nobody reaped; ``processes.process_alive``) is stale and is taken
over. What it does not cover: a pid reused by an unrelated process after a crash keeps the lock
until that process ends; projects on a network drive shared by two machines (the pid means
nothing on the other machine).
"""

import json
import os
import secrets
from pathlib import Path

from ..errors import TrainingBusy
from ..processes import process_alive
from ..storage import exclusive_lock, write_json

LOCK_FILE = "train.lock"
GUARD_FILE = ".train.lock.guard"
HANDOFF_ENV = "DAB_TRAINING_LOCK_TOKEN"


def lock_path(project_root: Path) -> Path:
    return Path(project_root) / LOCK_FILE


def read_lock(project_root: Path) -> dict | None:
    """The lock's contents (pid, run_dir, token), or None when there is no readable lock."""
    try:
        return json.loads(lock_path(project_root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def live_lock(project_root: Path) -> dict | None:
    """The lock if a live process holds it; a stale lock is removed. Call under the guard."""
    lock = read_lock(project_root)
    if lock is None or not process_alive(lock.get("pid")):
        lock_path(project_root).unlink(missing_ok=True)
        return None
    return lock


def active_lock(project_root: Path) -> dict | None:
    """The lock if a live process holds it (a stale lock is removed and None returned)."""
    with exclusive_lock(Path(project_root) / GUARD_FILE):
        return live_lock(project_root)


def acquire_lock(project_root: Path, run_dir: Path, pid: int | None = None, token: str | None = None) -> dict:
    """Take the project's training lock for ``run_dir`` on behalf of ``pid`` (default: this
    process); returns the record written, whose ``token`` lets a successor take it over. A live
    lock is taken over only with its ``token``; otherwise TrainingBusy."""
    with exclusive_lock(Path(project_root) / GUARD_FILE):
        lock = live_lock(project_root)
        if lock is not None and (token is None or lock.get("token") != token):
            raise busy_error(lock)
        record = {"pid": pid or os.getpid(), "run_dir": str(run_dir), "token": token or secrets.token_hex(16)}
        write_json(lock_path(project_root), record)
        return record


def handed_over_token() -> str | None:
    """The lock token the runner handed to this training process, if it was started by one."""
    return os.environ.get(HANDOFF_ENV) or None


def busy_error(lock: dict) -> TrainingBusy:
    """The error for a start refused because ``lock`` is held by a live training."""
    return TrainingBusy(f"a training is already running for this project (run {Path(str(lock.get('run_dir'))).name},"
                        f" pid {lock.get('pid')}); stop it or wait for it to finish")


def release_lock(project_root: Path, run_dir: Path) -> None:
    """Remove the lock if it still belongs to ``run_dir``."""
    with exclusive_lock(Path(project_root) / GUARD_FILE):
        lock = read_lock(project_root)
        if lock is not None and lock.get("run_dir") == str(run_dir):
            lock_path(project_root).unlink(missing_ok=True)
