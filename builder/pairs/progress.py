"""Honest progress for pair generation: passages done of all, pairs so far, time left.

    tracker = GenerationProgress()
    generate_pairs(project, pairs_cfg, progress=tracker.update)   # generators call update(done, total[, pairs])
    tracker.line()        # "5 of 16 passages · 7 pairs so far · about 2 min left"
    tracker.fraction      # 0.3125

Generators call their progress callback as ``progress(done, total)`` or, teachers, as
``progress(done, total, pairs_so_far)``. Time left is the time measured per passage so far
times the passages left; there is no estimate before the first passage is done. Once all
passages are read the line says the pairs are being checked and saved (validation and
deduplication come after the last passage).
"""

import time
from typing import Callable


class GenerationProgress:
    """Passages done, pairs so far, and time left from the measured time per passage."""

    def __init__(self, on_change: Callable[["GenerationProgress"], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.on_change, self.clock = on_change, clock
        self.started_s = clock()
        self.done = self.total = 0
        self.pairs: int | None = None

    def update(self, done: int, total: int, pairs: int | None = None) -> None:
        self.done, self.total = done, total
        if pairs is not None:
            self.pairs = pairs
        if self.on_change:
            self.on_change(self)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def seconds_left(self) -> float | None:
        """Measured seconds per passage times passages left (None before the first is done)."""
        if not self.done:
            return None
        return (self.clock() - self.started_s) / self.done * (self.total - self.done)

    def line(self) -> str:
        parts = [f"{self.done} of {self.total} passages"]
        if self.pairs is not None:
            parts.append(f"{self.pairs} pair{'s' if self.pairs != 1 else ''} so far")
        if self.total and self.done == self.total:
            parts.append("checking and saving the pairs")
        else:
            left = self.seconds_left
            parts.append("estimating time left" if left is None else f"about {duration(left)} left")
        return " · ".join(parts)


def duration(seconds: float) -> str:
    """``"40 s"``, ``"90 s"``, ``"3 min"``, ``"1 h 5 min"``."""
    if seconds < 99.5:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"
