"""Helpers for the training tests: a sample project with generated pairs, copied per test."""

import shutil
from pathlib import Path

from builder.pairs import generate_pairs
from builder.project import Project
from builder.storage import read_jsonl
from builder.workflow import ingest_and_chunk, sample_documents


def build_template(root: Path, model_dir: Path) -> Path:
    """Ingest the sample corpus and generate rule-based pairs once, with the tiny model."""
    project = Project.create(root)
    cfg = project.load_config()
    cfg.train.base_model = str(model_dir)
    project.save_config(cfg)
    ingest_and_chunk(project, sample_documents())
    generate_pairs(project)
    return root


def copy_project(template: Path, dest: Path, **train) -> Project:
    """A fresh copy of the template project with ``cfg.train`` fields overridden."""
    shutil.copytree(template, dest)
    project = Project.open(dest)
    cfg = project.load_config()
    defaults = {"max_steps": 6, "micro_batch": 1, "max_seq_tokens": 128, "learning_rate": 2e-2, "lora_rank": 4}
    for key, value in {**defaults, **train}.items():
        setattr(cfg.train, key, value)
    project.save_config(cfg)
    return project


def losses(run_dir: Path) -> list[float]:
    return [row["loss"] for row in read_jsonl(run_dir / "metrics.jsonl") if "loss" in row]


def adapter_tensors(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))
