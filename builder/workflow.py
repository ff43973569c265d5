"""Multi-step operations shared by the CLI and the UI (each one a few builder calls).

    project = create_sample_project(Path("projects/sample"))   # sample documents, ingested
    chunk_sources(project)                                     # token-aware chunks
"""

import os
from pathlib import Path

from .chunking import chunk_project
from .dataset import split_pairs
from .ingest import ingest_paths
from .models import load_tokenizer
from .pairs import training_pairs
from .project import Project
from .storage import read_jsonl

SAMPLE_SKIP = {"README.md", "heldout.jsonl"}


def templates_dir() -> Path:
    """The ``templates/`` folder: ``$DAB_TEMPLATES_DIR`` or the one beside the package."""
    env = os.environ.get("DAB_TEMPLATES_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "templates"


def sample_documents() -> list[Path]:
    """The sample corpus files (documents only, not its README or held-out questions)."""
    folder = templates_dir() / "samples"
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name not in SAMPLE_SKIP)


def sample_heldout() -> list[dict]:
    """Held-out question/answer pairs about the sample corpus, for evaluation."""
    return read_jsonl(templates_dir() / "samples" / "heldout.jsonl")


def chunk_sources(project: Project) -> list[dict]:
    """Chunk all ingested text with the tokenizer of the project's base model."""
    cfg = project.load_config()
    return chunk_project(project, load_tokenizer(cfg.train.base_model), cfg.chunk)


def ingest_and_chunk(project: Project, paths: list[Path]) -> tuple[list[dict], list[dict]]:
    """Ingest documents, then re-chunk the project; returns (per-file reports, chunks)."""
    reports = ingest_paths(project, paths)
    return reports, chunk_sources(project)


def create_sample_project(root: Path, base_model: str | None = None) -> Project:
    """A project preloaded with the sample corpus (ingested and chunked), created once."""
    project = Project.create(root, name="sample")
    if base_model:
        cfg = project.load_config()
        cfg.train.base_model = base_model
        project.save_config(cfg)
    if not project.chunks():
        ingest_and_chunk(project, sample_documents())
    return project


def heldout_pairs(project: Project) -> list[dict]:
    """Questions the tuned model never trained on: the sample's own set, else the eval split."""
    cfg = project.load_config()
    if cfg.name == "sample":
        return sample_heldout()
    return split_pairs(training_pairs(project.pairs()), cfg.pairs.eval_fraction, cfg.pairs.seed)[1]


def latest_adapter(project: Project) -> Path | None:
    """The adapter of the newest completed run, if any."""
    for run in project.completed_runs():
        if (run / "adapter" / "adapter_config.json").exists():
            return run / "adapter"
    return None
