"""One thread for all of a serving process's model work (loading, generation, scoring).

    model = torch_thread.call(load_model, spec)          # runs there, returns here
    future = torch_thread.submit(model.generate, **kw)    # runs there, in order

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
"""

import queue
import threading
from concurrent.futures import Future
from typing import Callable, TypeVar

T = TypeVar("T")

_jobs: "queue.SimpleQueue[tuple[Future, Callable, tuple, dict]]" = queue.SimpleQueue()
_lock = threading.Lock()
_thread: threading.Thread | None = None
_unfinished = 0  # jobs sent and not finished; _lock guards it and the thread's start


def _work() -> None:
    """The torch thread: run queued jobs forever (a daemon, so it never holds up exit)."""
    while True:
        future, fn, args, kwargs = _jobs.get()
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


def call(fn: Callable[..., T], *args, **kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` on the torch thread and return its result (or raise its error)."""
    if on_torch_thread():
        return fn(*args, **kwargs)
    return submit(fn, *args, **kwargs).result()
