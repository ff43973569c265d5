"""Other processes' CPU use from /proc (``builder.cpu_load``), on simulated and real readings.

    .venv/bin/python -m pytest tests/test_cpu_load.py -q
"""

import os

from builder.cpu_load import CpuMeter, Reading, others_cores, parse_own_ticks, parse_proc_stat, read

from .support import Clock

PROC_STAT = """cpu  900 10 200 5000 40 0 5 0 0 0
cpu0 400 10 100 2500 20 0 5 0 0 0
cpu1 500 0 100 2500 20 0 0 0 0 0
cpu2 7 7 7 7 7 7 7 7 0 0
intr 12345 0 0
ctxt 999
"""


def test_proc_stat_sums_only_the_cores_we_may_run_on():
    busy, total, cores = parse_proc_stat(PROC_STAT, {0, 1})
    assert (busy, total, cores) == (400 + 10 + 100 + 5 + 500 + 100, 400 + 10 + 100 + 2500 + 20 + 5 + 500 + 100 + 2500 + 20, 2)
    assert parse_proc_stat(PROC_STAT, {1})[2] == 1


def test_own_ticks_read_past_a_process_name_with_spaces_and_parentheses():
    stat = "4242 (dab (train) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 3 0 777"
    assert parse_own_ticks(stat) == 1234 + 56


def test_others_cores_subtract_our_own_time():
    old = Reading(0.0, busy_ticks=1000, total_ticks=4000, own_ticks=100, cores=2)
    new = Reading(1.0, busy_ticks=1150, total_ticks=4200, own_ticks=130, cores=2)  # 100 ticks elapsed per core
    assert abs(others_cores(old, new) - 1.2) < 1e-9
    assert others_cores(new, new) == 0.0


def test_a_training_beside_us_is_contention_and_our_own_work_is_not():
    clock = Clock()
    meter = CpuMeter(reader=clock)
    meter.sample()
    clock.advance(1.0, others_cores=0.0, own_cores=2.0)  # our own generation, both cores
    assert meter.others_cores() == 0.0 and not meter.contended()
    clock.advance(1.0, others_cores=1.8)  # a training starts
    assert abs(meter.others_cores() - 1.8) < 0.01 and meter.contended()
    clock.advance(1.0, others_cores=0.3)  # a light background task
    assert not meter.contended()


def test_the_load_is_judged_over_the_last_second_not_since_long_ago():
    clock = Clock()
    meter = CpuMeter(reader=clock)
    meter.sample()
    clock.advance(30.0, others_cores=2.0)  # long busy...
    meter.sample()
    for _ in range(4):  # ... then quiet for a second, sampled as the idle torch thread does
        clock.advance(0.25, others_cores=0.0)
        meter.sample()
    clock.advance(0.25, others_cores=0.0)
    assert meter.others_cores() == 0.0


def test_no_judgement_before_a_reading_is_old_enough():
    clock = Clock()
    meter = CpuMeter(reader=clock)
    meter.sample()
    clock.advance(0.05, others_cores=2.0)  # 5 ticks: too few to judge
    assert meter.others_cores() == 0.0
    clock.advance(1.0, others_cores=2.0)
    assert meter.contended()


def test_without_proc_nothing_counts_as_busy(tmp_path):
    assert read(tmp_path) is None
    meter = CpuMeter(reader=lambda: None)
    assert meter.others_cores() == 0.0 and not meter.contended()


def test_real_readings_cover_this_process_cores():
    reading = read()
    assert reading is not None and reading.cores == len(os.sched_getaffinity(0))
    assert 0 <= reading.own_ticks and reading.busy_ticks <= reading.total_ticks
