"""Races run for real: editors of one project's pairs in several processes and threads, two
claims of one training run, a killed child of a long-lived process.

    .venv/bin/python -m pytest tests/test_concurrency.py -q

Every race starts its workers at one barrier and is bounded in time (a worker still running
after its deadline fails the test instead of hanging it).
"""

import multiprocessing
import queue
import threading
from pathlib import Path

import pytest

from builder.errors import TrainingBusy
from builder.pairs import add_manual_pair, edit_pair
from builder.project import Project
from builder.runs import Run
from builder.train.lock import LOCK_FILE, release_lock
from builder.train.setup import claim_run

WORKERS = 4
ROUNDS = 12
DEADLINE_S = 60


def edit_and_add(root: str, worker: int, sync) -> None:
    """One editor: rewrite its own pair and add pairs of its own, as fast as it can."""
    project = Project(Path(root))
    own = f"own-{worker}"
    sync.barrier.wait(timeout=DEADLINE_S)
    for n in range(ROUNDS):
        pair_id = next(p.id for p in project.pairs() if p.question.startswith(own))
        edit_pair(project, pair_id, f"{own} question, version {n}?", f"Answer {n} of worker {worker}.")
        add_manual_pair(project, f"Added by worker {worker}, number {n}?", f"Yes, number {n}.")


class Sync:
    """What racing workers share: a start barrier, a queue for their results, a "done" event."""

    def __init__(self, kind: str, workers: int):
        module = multiprocessing.get_context("fork") if kind == "processes" else None
        self.barrier = module.Barrier(workers) if module else threading.Barrier(workers)
        self.results = module.Queue() if module else queue.Queue()
        self.done = module.Event() if module else threading.Event()


def run_all(kind: str, target, args_of, workers: int = WORKERS, until_results: int = 0) -> list:
    """Start ``workers`` workers (processes or threads) at one barrier; fail if one overruns.
    With ``until_results``, wait for that many results, then set ``done`` (workers may wait on it)."""
    sync = Sync(kind, workers)
    if kind == "processes":
        context = multiprocessing.get_context("fork")
        started = [context.Process(target=target, args=(*args_of(i), sync)) for i in range(workers)]
    else:
        started = [threading.Thread(target=target, args=(*args_of(i), sync), daemon=True) for i in range(workers)]
    for worker in started:
        worker.start()
    results = [sync.results.get(timeout=DEADLINE_S) for _ in range(until_results)]
    sync.done.set()
    for worker in started:
        worker.join(DEADLINE_S)
    overran = [w for w in started if w.is_alive()]
    for worker in overran:
        if kind == "processes":
            worker.kill()
    assert not overran, f"{len(overran)} worker(s) still running after {DEADLINE_S} s"
    if kind == "processes":
        assert [w.exitcode for w in started] == [0] * workers
    return results


@pytest.mark.parametrize("kind", ["processes", "threads"])
def test_concurrent_pair_editors_lose_nothing(tmp_path, kind):
    project = Project.create(tmp_path / "p")
    for worker in range(WORKERS):
        add_manual_pair(project, f"own-{worker} question?", "Not yet.")
    run_all(kind, edit_and_add, lambda i: (str(project.root), i))
    pairs = project.pairs()
    for worker in range(WORKERS):
        own = [p for p in pairs if p.question.startswith(f"own-{worker}")]
        assert [p.question for p in own] == [f"own-{worker} question, version {ROUNDS - 1}?"], "an edit was lost"
        added = {p.question for p in pairs if p.question.startswith(f"Added by worker {worker},")}
        assert len(added) == ROUNDS, f"worker {worker}: {ROUNDS - len(added)} added pair(s) lost"
    assert len(pairs) == WORKERS * (ROUNDS + 1)


def claim_and_hold(root: str, run_dir: str, sync) -> None:
    """Claim the run for resuming at the barrier; a winner holds the lock until all have tried."""
    project = Project(Path(root))
    sync.barrier.wait(timeout=DEADLINE_S)
    try:
        run, _ = claim_run(project, Path(run_dir), resume=True)
    except TrainingBusy:
        sync.results.put("busy")
        return
    sync.results.put("won")
    sync.done.wait(DEADLINE_S)
    release_lock(project.root, run.folder)


@pytest.mark.parametrize("kind", ["processes", "threads"])
def test_two_resumes_of_one_run_claim_it_once(tmp_path, kind):
    project = Project.create(tmp_path / "p")
    run = Run(project.new_run_dir())
    project.load_config().save(run.config_path)  # started, never completed: resumable
    for trial in range(10):
        outcomes = run_all(kind, claim_and_hold, lambda i: (str(project.root), str(run.folder)), workers=2,
                           until_results=2)
        assert sorted(outcomes) == ["busy", "won"], f"trial {trial}: {outcomes}"
        assert not (project.root / LOCK_FILE).exists()
