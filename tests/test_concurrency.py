"""Races run for real: editors of one project's pairs in several processes and threads, two
claims of one training run, a killed child of a long-lived process.

    .venv/bin/python -m pytest tests/test_concurrency.py -q

Every race starts its workers at one barrier and is bounded in time (a worker still running
after its deadline fails the test instead of hanging it).
"""

import multiprocessing
import threading
from pathlib import Path

import pytest

from builder.pairs import add_manual_pair, edit_pair
from builder.project import Project

WORKERS = 4
ROUNDS = 12
DEADLINE_S = 60


def edit_and_add(root: str, worker: int, barrier) -> None:
    """One editor: rewrite its own pair and add pairs of its own, as fast as it can."""
    project = Project(Path(root))
    own = f"own-{worker}"
    barrier.wait(timeout=DEADLINE_S)
    for n in range(ROUNDS):
        pair_id = next(p.id for p in project.pairs() if p.question.startswith(own))
        edit_pair(project, pair_id, f"{own} question, version {n}?", f"Answer {n} of worker {worker}.")
        add_manual_pair(project, f"Added by worker {worker}, number {n}?", f"Yes, number {n}.")


def run_all(kind: str, target, args_of) -> None:
    """Start ``WORKERS`` workers (processes or threads) at one barrier; fail if one overruns."""
    if kind == "processes":
        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(WORKERS)
        workers = [context.Process(target=target, args=(*args_of(i), barrier)) for i in range(WORKERS)]
    else:
        barrier = threading.Barrier(WORKERS)
        workers = [threading.Thread(target=target, args=(*args_of(i), barrier), daemon=True) for i in range(WORKERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(DEADLINE_S)
    overran = [w for w in workers if w.is_alive()]
    for worker in overran:
        if kind == "processes":
            worker.kill()
    assert not overran, f"{len(overran)} worker(s) still running after {DEADLINE_S} s"
    if kind == "processes":
        assert [w.exitcode for w in workers] == [0] * WORKERS


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
