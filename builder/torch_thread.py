"""One thread for all of a serving process's model work (loading, generation, scoring).

    model = torch_thread.call(load_model, spec)          # runs there, returns here
    future = torch_thread.submit(model.generate, **kw)    # runs there, in order
    torch_thread.requeue(more_work)                       # from the torch thread: later, behind the queue

Why: PyTorch runs CPU kernels on an OpenMP thread team that belongs to the thread calling them.
Once two threads have used torch, their teams together outnumber the cores, and libgomp stops
spinning between kernels: its workers sleep after every one. Token-by-token generation is
thousands of small kernels per answer, and on a 2-core machine it ran at ~18 tokens/s from a
second thread against ~26 from a thread that was the only one (``bench/chat.py``). A chat app,
the wizard or ``dab serve``, answers on whatever thread handles the request, so the chat engine,
the evaluation, the local teacher and the transfer check send their model work here instead.

Work runs in the order it was sent, one piece at a time. Code already on this thread runs
inline (so a function sent here may call ``call`` again). Training runs in its own process and
does not use this thread.

Under load the spinning turns against us: when other processes keep the cores busy (a
training, a test run), a worker that loses its core stalls every kernel while the thread that
waits for it spins out its own time slice. Beside a training on a 2-core machine, 2 spinning
threads generated ~2 tokens/s against 7-10 for plain ``generate`` (``bench/chat.py
--under-load``). So before each piece of work the thread checks what other processes used
over the last second (``cpu_load``; while idle it samples every ``IDLE_SAMPLE_S``), and when
that is more than half a core it keeps a spare OpenMP thread parked: libgomp then counts more
OpenMP threads than CPUs and, as documented for ``GOMP_SPINCOUNT``, its waiting workers spin
100 times instead of 300,000 before they sleep, like plain ``generate``'s (~0.05 ms of CPU
after a kernel instead of ~6 ms, ``tests/test_torch_thread.py``). On a quiet machine the spare
is gone and the workers spin again. ``set_wait_policy`` fixes either choice. Fewer threads
instead (one on 2 cores) ran about as fast beside other test runs, but slower than short waits
beside a training in the same scheduling group, so the thread count stays torch's.
"""

import logging
import queue
import sys
import threading
from concurrent.futures import Future
from typing import Callable, TypeVar

from .cpu_load import CpuMeter
from .errors import ConfigError

T = TypeVar("T")
log = logging.getLogger(__name__)

_jobs: "queue.SimpleQueue[tuple[Future, Callable, tuple, dict]]" = queue.SimpleQueue()
_lock = threading.Lock()
_thread: threading.Thread | None = None
_unfinished = 0  # jobs sent and not finished; _lock guards it and the thread's start
IDLE_SAMPLE_S = 0.5
WAIT_POLICIES = ("auto", "spin", "short")
_meter = CpuMeter()
_waits = {"policy": "auto", "spare": None}  # set_wait_policy's choice; the parked _Spare while it lives


def _work() -> None:
    """The torch thread: run queued jobs forever (a daemon, so it never holds up exit)."""
    while True:
        try:
            future, fn, args, kwargs = _jobs.get(timeout=IDLE_SAMPLE_S)
        except queue.Empty:
            _meter.sample()
            continue
        try:
            fit_waits()
        except Exception as exc:  # the work runs all the same, with the waits it had
            log.warning("could not adjust the OpenMP waits: %s", exc)
        result, error = None, None
        running = future.set_running_or_notify_cancel()
        if running:
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the caller through the future
                error = exc
        _count_job(-1)  # first: a caller that has its answer never sees its own job as still busy
        if running and error is not None:
            future.set_exception(error)
        elif running:
            future.set_result(result)


def _count_job(change: int) -> None:
    global _unfinished
    with _lock:
        _unfinished += change


def fit_waits() -> bool:
    """Short waits (a parked ``_Spare``) while other processes keep the cores busy, or as
    ``set_wait_policy`` fixed it; returns True when waits are short. Runs on the torch thread
    before each job; does nothing until torch is imported."""
    if "torch" not in sys.modules:
        return False
    short = _waits["policy"] == "short" or (_waits["policy"] == "auto" and _meter.contended())
    if short and _waits["spare"] is None:
        _waits["spare"] = _Spare()
    elif not short and _waits["spare"] is not None:
        _waits["spare"].end()
        _waits["spare"] = None
    return short


class _Spare:
    """A parked thread with its own OpenMP team. While it lives, libgomp counts more OpenMP
    threads than CPUs, and every team's waiting workers spin briefly, then sleep."""

    def __init__(self):
        self._stop, ready = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._park, args=(ready,), name="dab-omp-spare", daemon=True)
        self._thread.start()
        ready.wait()

    def _park(self, ready: threading.Event) -> None:
        import torch

        try:
            torch.ones(1 << 20).add_(1)  # large enough to run in parallel: this thread's team exists now
        finally:
            ready.set()
        self._stop.wait()

    def end(self) -> None:
        """Stop and wait for the thread: libgomp lets go of a team when its thread has ended."""
        self._stop.set()
        self._thread.join()


def set_wait_policy(policy: str) -> None:
    """``auto`` (default): short waits only while other processes keep the cores busy; ``spin``:
    always spin, fastest on a machine left to us; ``short``: always short. Applies from the next job."""
    if policy not in WAIT_POLICIES:
        raise ConfigError(f"the wait policy must be one of {', '.join(WAIT_POLICIES)}, not {policy!r}")
    _waits["policy"] = policy


def busy() -> bool:
    """True while earlier work is running or waiting here (a new job would wait for it)."""
    return _unfinished > 0


def on_torch_thread() -> bool:
    """True when the caller is the torch thread."""
    return _thread is not None and threading.current_thread() is _thread


def submit(fn: Callable[..., T], *args, **kwargs) -> Future:
    """Queue ``fn(*args, **kwargs)`` on the torch thread; its result or exception is the future's."""
    global _thread
    if on_torch_thread():
        raise RuntimeError("submit() from the torch thread would wait on itself; call the function directly")
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_work, name="dab-torch", daemon=True)
            _thread.start()
    future: Future = Future()
    _count_job(1)
    _jobs.put((future, fn, args, kwargs))
    return future


def requeue(fn: Callable[..., T], *args, **kwargs) -> Future:
    """From the torch thread: queue ``fn`` behind the work waiting now (a long job that gives up
    its turn and goes on later, such as the chat engine's decode loop). Never wait on its future there."""
    if not on_torch_thread():
        raise RuntimeError("requeue() is for work already on the torch thread; use submit()")
    future: Future = Future()
    _count_job(1)
    _jobs.put((future, fn, args, kwargs))
    return future


def call(fn: Callable[..., T], *args, **kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` on the torch thread and return its result (or raise its error)."""
    if on_torch_thread():
        return fn(*args, **kwargs)
    return submit(fn, *args, **kwargs).result()
