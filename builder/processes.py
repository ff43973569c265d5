"""Start and watch the product's background processes: the training child and the share demo.

    process = spawn(cmd, log_path, pid_path=run / "pid")   # a new session; output appended to the log
    process_alive(pid)                                      # running (a zombie counts as ended)
    process_alive(pid, command="ui.demo")                   # ... and started with that in its command line
    stop_process(pid, command="ui.demo")                    # SIGTERM, only when it is that process

A process is started in a new session (``start_new_session``), so it outlives the caller (a
closed browser tab, a Ctrl-C in the terminal); its stdin is closed and its stdout and stderr go
to a log file. A thread of the caller waits for it, so however it ends (finished, stopped,
killed by a signal) it is reaped at once and never lingers as a zombie of a long-lived caller
such as the wizard. What the checks cover: with ``command``, ``/proc/<pid>/cmdline`` must contain it,
so a pid reused by another program (after a crash or a reboot) is never taken for ours nor
signalled. What they do not cover: without ``command`` a reused pid reads as alive; without
``/proc`` (macOS) only the signal check is made.
"""

import os
import signal
import subprocess
import threading
from pathlib import Path

from .storage import atomic_write_text


def spawn(cmd: list[str], log_path: Path, pid_path: Path | None = None, env: dict[str, str] | None = None
          ) -> subprocess.Popen:
    """Start ``cmd`` in a new session, its output appended to ``log_path``; write its pid to
    ``pid_path``. It is reaped when it ends (``process.returncode`` is then set)."""
    with Path(log_path).open("ab") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
    if pid_path is not None:
        atomic_write_text(Path(pid_path), str(process.pid))
    return process


def process_alive(pid, command: str | None = None) -> bool:
    """True if ``pid`` is a running process (not a zombie) whose command line holds ``command``."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it runs, as another user
    if not Path("/proc/self").exists():
        return True  # no /proc (macOS): trust the signal check
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False  # it ended meanwhile
    return state != "Z" and (command is None or command.encode() in cmdline)


def stop_process(pid, command: str | None = None) -> bool:
    """Send SIGTERM to ``pid`` if it is alive (and started with ``command``); True when sent."""
    if not process_alive(pid, command):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True
