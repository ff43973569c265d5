"""Background processes (``builder.processes``): a new session, a pid file, a log, alive checks
that never mistake another program for ours, and a stop that signals only ours.

    .venv/bin/python -m pytest tests/test_processes.py -q
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builder.processes import process_alive, spawn, stop_process

SLEEPER = "import sys, time; print('ready', flush=True); print('warned', file=sys.stderr, flush=True); time.sleep(30)"


def wait_until(predicate, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_spawned_process_has_its_own_session_pid_file_and_log_and_stops(tmp_path):
    process = spawn([sys.executable, "-c", SLEEPER], tmp_path / "out.log", pid_path=tmp_path / "pid",
                    env={"DAB_TEST_MARK": "1"})
    try:
        assert int((tmp_path / "pid").read_text()) == process.pid
        assert os.getsid(process.pid) == process.pid, "a session of its own: it outlives the caller"
        assert wait_until(lambda: "warned" in (tmp_path / "out.log").read_text())
        assert "ready" in (tmp_path / "out.log").read_text(), "stdout and stderr both go to the log"
        assert process_alive(process.pid) and process_alive(process.pid, "time.sleep(30)")
        assert not process_alive(process.pid, "ui.demo")
        assert not stop_process(process.pid, "ui.demo") and process.poll() is None, "not ours: never signalled"
        assert stop_process(process.pid, "time.sleep(30)")
        assert process.wait(10) == -15
    finally:
        process.kill()
        process.wait()


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="zombies are seen through /proc (Linux)")
def test_a_spawned_process_killed_by_a_signal_is_reaped(tmp_path):
    process = spawn([sys.executable, "-c", SLEEPER], tmp_path / "out.log")
    assert wait_until(lambda: "ready" in (tmp_path / "out.log").read_text())
    os.kill(process.pid, signal.SIGKILL)
    assert wait_until(lambda: not Path(f"/proc/{process.pid}").exists(), 5), "left as a zombie of this process"
    assert process.returncode == -signal.SIGKILL


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="zombies are seen through /proc (Linux)")
def test_ended_unreaped_or_invalid_processes_are_not_alive():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        stat = Path(f"/proc/{process.pid}/stat")
        assert wait_until(lambda: stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z"), "a zombie, not reaped yet"
        assert not process_alive(process.pid) and not stop_process(process.pid)
    finally:
        process.wait()
    assert not process_alive(process.pid)
    for pid in (None, 0, -1, "123", 2**22 + 12345):
        assert not process_alive(pid)
