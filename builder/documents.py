"""The Documents step as library calls: add documents to a project, or start from the sample.

    reports, chunks = ingest_and_chunk(project, [Path("docs/"), Path("handbook.pdf")])
    remove_document(project, source_id)                        # with its chunks and pairs
    project = create_sample_project(Path("projects/sample"))   # the sample corpus, ingested once

Adding documents ingests them (``ingest``: one report row per file, a bad file never stops the
batch) and re-chunks the whole project with the tokenizer of its base model (``chunking``).
"""

from pathlib import Path

from .chunking import chunk_sources
from .ingest import ingest_paths
from .project import Project, new_project
from .records import Chunk
from .templates import sample_documents


def ingest_and_chunk(project: Project, paths: list[Path]) -> tuple[list[dict], list[Chunk]]:
    """Ingest documents, then re-chunk the project; returns (per-file reports, chunks)."""
    reports = ingest_paths(project, paths)
    return reports, chunk_sources(project)


def remove_document(project: Project, source_id: str) -> None:
    """Forget a document and what came from it (``Project.remove_source``), then re-chunk the rest."""
    project.remove_source(source_id)
    if project.sources():
        chunk_sources(project)


def create_sample_project(root: Path, base_model: str | None = None) -> Project:
    """A project preloaded with the sample corpus (ingested and chunked), created once; it trains
    with the Quick preset so that a first run on a laptop CPU takes minutes."""
    project = new_project(root, name="sample", preset="quick")
    if base_model:
        project_cfg = project.load_config()
        project_cfg.train.base_model = base_model
        project.save_config(project_cfg)
    if not project.chunks():
        ingest_and_chunk(project, sample_documents())
    return project
