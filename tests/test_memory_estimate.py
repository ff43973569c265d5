"""The training memory estimate against measured peaks (``bench/memory.py``).

    .venv/bin/python -m pytest tests/test_memory_estimate.py -q            # the recorded peaks (fast)
    .venv/bin/python -m pytest tests/test_memory_estimate.py -q -m slow    # one real training process

The fast test compares today's ``estimate_memory`` with the peaks recorded in
bench/results/memory-cpu.json (real training processes of the bundled model on CPU); the slow one
measures a fresh training process the same way.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from builder.train.presets import ModelShape, estimate_memory

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ModelShape(params=134_515_008, layers=30, hidden=576, intermediate=1536, vocab=49152, max_positions=8192,
                     tied_embeddings=True, heads=9)  # SmolLM2-135M-Instruct
TOLERANCE = 0.20


def test_cpu_estimate_is_within_20_percent_of_the_recorded_peaks():
    recorded = json.loads((ROOT / "bench" / "results" / "memory-cpu.json").read_text())
    assert recorded["model"] == "bundled" and len(recorded["runs"]) >= 4
    assert len({run["row_tokens"] for run in recorded["runs"]}) >= 3 and len({run["lora_rank"] for run in recorded["runs"]}) >= 3
    for run in recorded["runs"]:
        estimate = estimate_memory(BUNDLED, "cpu", False, run["lora_rank"], run["row_tokens"], False, False)
        assert abs(estimate / run["measured_bytes"] - 1) <= TOLERANCE, run


def test_cpu_estimate_grows_with_rows_faster_than_linearly_and_with_rank():
    short, long = (estimate_memory(BUNDLED, "cpu", False, 16, rows, False, False) for rows in (512, 1024))
    base = estimate_memory(BUNDLED, "cpu", False, 16, 0, False, False)
    assert long - base > 2 * (short - base), "attention scores grow with the square of the row on CPU"
    assert estimate_memory(BUNDLED, "cpu", False, 64, 512, False, False) > short
    assert estimate_memory(BUNDLED, "cpu", False, 16, 1024, True, False) < long, "checkpointing saves memory"


@pytest.mark.slow
def test_a_fresh_training_process_peaks_within_20_percent_of_its_estimate(tmp_path):
    out = tmp_path / "memory.json"
    done = subprocess.run([sys.executable, "bench/memory.py", "--rows", "256", "--ranks", "--steps", "2", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    [run] = json.loads(out.read_text())["runs"]
    estimate = estimate_memory(BUNDLED, "cpu", False, 16, 256, False, False)
    assert abs(estimate / run["measured_bytes"] - 1) <= TOLERANCE, (estimate, run)
