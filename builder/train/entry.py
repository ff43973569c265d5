"""The training process's entry point, for the wizard's background runs and for launchers:

    python -m builder.train --project P [--run-dir R] [--resume] [--preset quick] [--max-steps N]
    accelerate launch --num_processes 2 -m builder.train -p P      # data parallel (``distributed``)

``runner.start_training`` spawns it; ``dab train`` parses the same options (``add_arguments``)
and calls the same function (``train_from_args``), so the training process never needs the
command line above the library. It prints the final status as one JSON line; a problem the
user can fix ends as one ``error:`` line and exit code 2.
"""

import argparse
import json
import sys
from pathlib import Path

from ..errors import BuilderError
from ..project import Project
from .loop import run_training


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The training options, shared by ``python -m builder.train`` and ``dab train``."""
    parser.add_argument("--project", "-p", type=Path, required=True, help="project folder")
    parser.add_argument("--run-dir", type=Path, help="write into this run folder (used by the wizard)")
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    parser.add_argument("--preset", choices=["quick", "balanced", "thorough", "custom"],
                        help="settings from hardware, model and data (custom: as in project.yaml)")
    parser.add_argument("--resume", action="store_true", help="continue the newest unfinished run (or --run-dir)")


def train_from_args(args: argparse.Namespace) -> dict:
    """Train the project with the options' overrides of its config; returns the final status."""
    project = Project.open(args.project)
    project_cfg = project.load_config()
    if args.max_steps:
        project_cfg.train.max_steps = args.max_steps
    if args.preset:
        project_cfg.train.preset = args.preset
    return run_training(project, args.run_dir, project_cfg, resume=args.resume)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m builder.train",
                                     description="Fine-tune a LoRA adapter on a project's pairs.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        status = train_from_args(args)
    except BuilderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(status))
    return 0
