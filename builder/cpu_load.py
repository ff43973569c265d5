"""How much CPU other processes used over the last second: is the machine busy beside us?

    meter = CpuMeter()
    meter.sample()           # now and then (the torch thread does, every 0.5 s while idle)
    meter.others_cores()     # cores other processes kept busy lately, e.g. 1.8 beside a training
    meter.contended()        # True when that is more than CONTENDED_CORES

Other processes' CPU time is all the CPU time of the cores this process may run on
(``/proc/stat``) minus this process's own (``/proc/self/stat``, all its threads), between the
newest reading at least ``WINDOW_S`` old (else the oldest kept) and now. Without ``/proc``
(macOS, Windows) nothing counts as busy.
"""

import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

CONTENDED_CORES = 0.5  # others' use above half a core: our spinning OpenMP workers lose their core often
WINDOW_S = 1.0  # the load is averaged over at least this long, when a reading that old is kept
MIN_WINDOW_S = 0.2  # a shorter window holds too few clock ticks (10 ms each) to judge
SPACING_S = 0.25  # kept readings are at least this far apart, however often the meter is asked


@dataclass(frozen=True)
class Reading:
    """CPU time counters at one moment, in clock ticks."""

    at_s: float
    busy_ticks: int  # all processes, on this process's cores
    total_ticks: int  # busy + idle, on those cores
    own_ticks: int  # this process, all its threads
    cores: int


def others_cores(old: Reading, new: Reading) -> float:
    """Cores other processes kept busy, on average, between two readings."""
    elapsed_ticks = (new.total_ticks - old.total_ticks) / max(1, new.cores)
    if elapsed_ticks <= 0:
        return 0.0
    others = (new.busy_ticks - old.busy_ticks) - (new.own_ticks - old.own_ticks)
    return max(0.0, others / elapsed_ticks)


def parse_proc_stat(text: str, cpus: set[int]) -> tuple[int, int, int]:
    """(busy, total, cores): ticks summed over the ``cpuN`` lines of ``/proc/stat`` in ``cpus``."""
    busy = total = cores = 0
    for line in text.splitlines():
        if not line.startswith("cpu"):
            break  # the cpu lines come first; the rest (interrupt counts) is long
        name, *fields = line.split()
        if not name[3:].isdigit() or int(name[3:]) not in cpus:
            continue
        user, nice, system, idle, iowait, irq, softirq, steal = (int(f) for f in (fields + ["0"] * 8)[:8])
        busy += user + nice + system + irq + softirq + steal  # guest time is already in user
        total += user + nice + system + idle + iowait + irq + softirq + steal
        cores += 1
    return busy, total, cores


def parse_own_ticks(text: str) -> int:
    """utime + stime from ``/proc/self/stat`` (fields 14 and 15; the name may hold spaces)."""
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def read(proc: Path = Path("/proc")) -> Reading | None:
    """The counters now, or None where ``/proc`` cannot be read."""
    try:
        busy, total, cores = parse_proc_stat((proc / "stat").read_text(), os.sched_getaffinity(0))
        own = parse_own_ticks((proc / "self" / "stat").read_text())
    except (OSError, ValueError, IndexError, AttributeError):  # no /proc, no sched_getaffinity
        return None
    return Reading(time.monotonic(), busy, total, own, cores) if cores else None


class CpuMeter:
    """A few recent readings, and what they say about other processes' CPU use."""

    def __init__(self, reader=read, keep: int = 8):
        self.reader = reader
        self.readings: deque[Reading] = deque(maxlen=keep)
        self.others = 0.0

    def sample(self) -> Reading | None:
        """Read the counters; keep the reading unless the newest kept one is under ``SPACING_S`` old."""
        reading = self.reader()
        if reading is not None and (not self.readings or reading.at_s - self.readings[-1].at_s >= SPACING_S):
            self.readings.append(reading)
        return reading

    def others_cores(self) -> float:
        """Cores others kept busy lately; the last estimate while no reading is ``MIN_WINDOW_S`` old."""
        now = self.sample()
        if now is None:
            return 0.0
        older = [r for r in self.readings if now.at_s - r.at_s >= MIN_WINDOW_S]
        if older:
            old = next((r for r in reversed(older) if now.at_s - r.at_s >= WINDOW_S), older[0])
            self.others = others_cores(old, now)
        return self.others

    def contended(self) -> bool:
        """True when other processes kept more than ``CONTENDED_CORES`` busy lately."""
        return self.others_cores() > CONTENDED_CORES
