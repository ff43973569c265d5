"""The training memory estimate against the measured peak of real training runs.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/memory.py            # measure (CPU: ~5 min), write the results
    .venv/bin/python bench/memory.py --check                     # today's estimate vs the recorded peaks

Each configuration is one real training process (``python -m builder.train``, the process the
wizard starts) of the bundled model on rule-generated pairs of the sample corpus, packed into rows
of ``--rows`` tokens, LoRA of each ``--ranks`` rank, fp32 on CPU, ``--steps`` optimizer steps
(checkpoint and adapter saved at the end, as always). Measured: the peak resident set of the whole
process (``os.wait4``: model load, data, steps, saves). Estimated: ``presets.estimate_memory`` for
the same shape, rank and row length. Results go to bench/results/memory-<device>.json; ``--check``
recomputes the estimates of that file with the code as it is now, prints the ratios and exits 1
when one is off by more than 20% (tests/test_presets.py runs the same check).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "memory-cpu.json"
TOLERANCE = 0.20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[256, 512, 1024], help="row lengths in tokens (rank 16)")
    parser.add_argument("--ranks", type=int, nargs="*", default=[4, 64], help="LoRA ranks tried at 512-token rows")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="only compare today's estimate with --out's peaks")
    args = parser.parse_args()
    if args.check:
        sys.exit(0 if check(json.loads(args.out.read_text())) else 1)
    configs = [(rows, 16) for rows in args.rows] + [(512, rank) for rank in args.ranks]
    runs = measure(args.model, configs, args.steps)
    summary = {"device": f"cpu ({os.cpu_count()} cores)", "model": args.model, "steps": args.steps,
               "precision": "fp32 LoRA, sdpa, micro-batch 1, no gradient checkpointing", "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    sys.exit(0 if check(summary) else 1)


def measure(model: str, configs: list[tuple[int, int]], steps: int) -> list[dict]:
    """One training process per (row tokens, rank); its peak RSS and the estimate it was planned with."""
    work = Path(tempfile.mkdtemp(prefix="dab-memory-"))
    try:
        template = sample_project(work / "template", model)
        runs = []
        for row_tokens, rank in configs:
            project = work / f"rows{row_tokens}-r{rank}"
            shutil.copytree(template, project)
            configure(project, row_tokens, rank, steps)
            peak = peak_rss_bytes([sys.executable, "-m", "builder.train", "--project", str(project)])
            record = json.loads(next((project / "runs").glob("*/data.json")).read_text())
            runs.append({"row_tokens": row_tokens, "lora_rank": rank, "measured_bytes": peak,
                         "estimate_at_measurement_bytes": record["memory_estimate_bytes"]})
            print(f"rows {row_tokens:5}  rank {rank:3}  peak {peak / 2**30:.2f} GiB", flush=True)
        return runs
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sample_project(root: Path, model: str) -> Path:
    """The sample corpus with rule-generated pairs, trained as it is (no held-out split)."""
    from builder.documents import ingest_and_chunk
    from builder.pairs import generate_pairs
    from builder.project import Project
    from builder.templates import sample_documents

    project = Project.create(root)
    project_cfg = project.load_config()
    project_cfg.train.base_model = model
    project_cfg.pairs.eval_fraction = 0.0
    project.save_config(project_cfg)
    ingest_and_chunk(project, sample_documents())
    generate_pairs(project)
    return root


def configure(root: Path, row_tokens: int, rank: int, steps: int) -> None:
    from builder.project import Project
    from builder.train.presets import lora_alpha

    project = Project.open(root)
    project_cfg = project.load_config()
    tc = project_cfg.train
    tc.preset, tc.max_seq_tokens, tc.micro_batch, tc.grad_accum, tc.max_steps = "custom", row_tokens, 1, 1, steps
    tc.lora_rank, tc.lora_alpha, tc.quantize, tc.gradient_checkpointing = rank, lora_alpha(rank), "none", "off"
    project.save_config(project_cfg)


def peak_rss_bytes(cmd: list[str]) -> int:
    """Run ``cmd`` to the end; its peak resident set in bytes (Linux reports KiB)."""
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"training failed: {process.stderr.read().decode()[-3000:]}")
    return usage.ru_maxrss * 1024


def estimate_bytes(model: str, row_tokens: int, rank: int) -> int:
    """Today's estimate for one measured configuration (CPU, fp32, no checkpointing, unfused loss)."""
    from builder.models import resolve_model
    from builder.train.presets import estimate_memory, model_shape

    return estimate_memory(model_shape(resolve_model(model)), "cpu", False, rank, row_tokens, False, False)


def check(summary: dict) -> bool:
    """Print estimate/measured for every run; True when all are within the tolerance."""
    ok = True
    for run in summary["runs"]:
        estimate = estimate_bytes(summary["model"], run["row_tokens"], run["lora_rank"])
        ratio = estimate / run["measured_bytes"]
        ok = ok and abs(ratio - 1) <= TOLERANCE
        print(f"rows {run['row_tokens']:5}  rank {run['lora_rank']:3}  measured {run['measured_bytes'] / 2**30:.2f} GiB  "
              f"estimate {estimate / 2**30:.2f} GiB  ratio {ratio:.2f}")
    return ok


if __name__ == "__main__":
    main()
