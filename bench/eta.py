"""How right is the training's time left? Predicted vs actual, at 10%, 25% and 50% of the steps.

    HF_HUB_OFFLINE=1 nice -n 15 .venv/bin/python bench/eta.py --max-steps 10          # sample, bundled model
    .venv/bin/python bench/eta.py --project P --preset balanced --out bench/results/eta.json

Trains the project (default: a copy of the sample project with rule-generated pairs and the
bundled model) in this process, exactly as ``dab train`` does, evaluations and recall checks
included. Each metrics line holds the run's elapsed time and its time left (``eta_s``); the
final status holds the whole session's time (``elapsed_s``). At each mark the prediction is
compared with the time that was really left: ``ratio`` = predicted / actual, 1.0 is exact; the
target is 0.75-1.25 from 10% of the steps on.
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARKS = (0.1, 0.25, 0.5)


def sample_project(folder: Path):
    from builder.documents import create_sample_project
    from builder.pairs import generate_pairs

    project = create_sample_project(folder)
    generate_pairs(project)
    return project


def eta_report(metrics: list[dict], status: dict) -> dict:
    """Predicted vs actual time left at each mark, from a finished run's metrics and status."""
    steps = [row for row in metrics if "eta_s" in row]
    total, end_s = status["total_steps"], status["elapsed_s"]
    marks = {}
    for mark in MARKS:
        row = next(r for r in steps if r["step"] >= mark * total)
        actual = end_s - row["elapsed_s"]
        marks[f"{mark:.0%}"] = {"step": row["step"], "predicted_s": row["eta_s"], "actual_s": round(actual, 1),
                                "ratio": round(row["eta_s"] / actual, 3) if actual > 0 else None}
    return {"total_steps": total, "elapsed_s": end_s, "marks": marks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, help="train a copy of this project (default: the sample)")
    parser.add_argument("--preset", choices=["quick", "balanced", "thorough", "custom"])
    parser.add_argument("--max-steps", type=int, default=0, help="cut the run to this many steps (0: as planned)")
    parser.add_argument("--out", type=Path, help="write the result here as JSON")
    args = parser.parse_args()

    from builder.project import Project
    from builder.runs import newest_run
    from builder.train import run_training

    with tempfile.TemporaryDirectory(prefix="dab-eta-") as tmp:
        folder = Path(tmp) / "project"
        project = Project.open(shutil.copytree(args.project, folder)) if args.project else sample_project(folder)
        project_cfg = project.load_config()
        if args.max_steps:
            project_cfg.train.max_steps = args.max_steps
        if args.preset:
            project_cfg.train.preset = args.preset
        status = run_training(project, project_cfg=project_cfg)
        if status["state"] != "completed":
            raise SystemExit(f"the run ended {status['state']} at step {status['step']}: nothing to compare")
        result = {"preset": project_cfg.train.preset, **eta_report(newest_run(project).metrics(), status)}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
