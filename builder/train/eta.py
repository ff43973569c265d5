"""Time left in a training run, from what its steps and its evaluations measurably take.

    clock = RunClock(total_steps, evaluation_steps(total_steps, eval_every))
    ... one optimizer step ...;  clock.step_done()
    with clock.pause(): ...             # work that is neither (a probe): left out of both
    with clock.evaluating(): ...        # eval loss + recall check
    clock.expect_evaluation(seconds)    # a probe's prediction, until an evaluation is measured
    clock.remaining_s(step)             # seconds until the run ends, after ``step`` (its evaluation to come)

Steps and evaluations are timed apart. An evaluation (the eval loss over the held-out rows, then
the recall check generating up to 24 answers) takes as long as several steps, and comes only a
few times per run, the first after a fifth of it: a rate over the wall time so far would
promise too little until then and swing after each one. So a step's time is the mean wall time
of the steps so far (checkpoint saves included; the first step, slowed by warm-up, left out
once others are measured) and an evaluation's is the mean of those measured, else the
prediction of a probe made after the first step (``expect_evaluation``).
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def evaluation_steps(total_steps: int, eval_every: int) -> set[int]:
    """The steps after which the loop evaluates: every ``eval_every`` steps, and the last."""
    return set(range(eval_every, total_steps + 1, eval_every)) | {total_steps}


class RunClock:
    """Measured step and evaluation times of one training session, and the time left they imply."""

    def __init__(self, total_steps: int, eval_steps: set[int], clock: Callable[[], float] = time.monotonic):
        self.total_steps, self.eval_steps, self.clock = total_steps, eval_steps, clock
        self.step_s: list[float] = []
        self.eval_s: list[float] = []
        self.expected_eval_s = 0.0
        self.mark, self.paused_s = clock(), 0.0

    def step_done(self) -> None:
        """One optimizer step finished: its time is the wall time since the last one, pauses left out."""
        now = self.clock()
        self.step_s.append(max(0.0, now - self.mark - self.paused_s))
        self.mark, self.paused_s = now, 0.0

    @contextmanager
    def pause(self) -> Iterator[None]:
        """Time that counts as neither a step nor an evaluation."""
        started = self.clock()
        try:
            yield
        finally:
            self.paused_s += self.clock() - started

    @contextmanager
    def evaluating(self) -> Iterator[None]:
        started = self.clock()
        try:
            yield
        finally:
            took = self.clock() - started
            self.eval_s.append(took)
            self.paused_s += took

    def expect_evaluation(self, seconds: float) -> None:
        self.expected_eval_s = seconds

    def mean_step_s(self) -> float | None:
        steady = self.step_s[1:] or self.step_s
        return sum(steady) / len(steady) if steady else None

    def mean_eval_s(self) -> float:
        return sum(self.eval_s) / len(self.eval_s) if self.eval_s else self.expected_eval_s

    def evaluations_left(self, step: int) -> int:
        """Evaluations still to run after ``step`` finished, its own included."""
        return sum(s >= step for s in self.eval_steps)

    def remaining_s(self, step: int) -> float | None:
        """Seconds until the run ends, just after ``step`` finished; None before a step was timed."""
        step_s = self.mean_step_s()
        if step_s is None:
            return None
        return step_s * (self.total_steps - step) + self.mean_eval_s() * self.evaluations_left(step)
