"""The Documents step as library calls: add documents to a project, or start from the sample.

    reports, chunks = ingest_and_chunk(project, [Path("docs/"), Path("handbook.pdf")])
    remove_document(project, source_id)                        # with its chunks and pairs
    project = create_sample_project(Path("projects/sample"))   # the sample corpus, ingested once

Adding documents ingests them (``ingest``: one report row per file, a bad file never stops the
batch) and re-chunks the whole project with the tokenizer of its base model (``chunking``).
Adding or removing documents also brings the search index up to date (``retrieve``: new chunks
are embedded, a few per second on a 2-core CPU), here where the user expects the wait, not at
the first question or the start of training.
"""

from pathlib import Path

from .chunking import chunk_sources
from .ingest import ingest_paths
from .project import Project, new_project
from .records import Chunk
from .retrieve import project_index
from .templates import sample_documents

SAMPLE_DESCRIPTION = ("Questions about Brindlewick Cycle Commons, the member-owned bike share of Kelderport: "
                      "membership, fees and passes, stations and opening hours, cargo bikes and the workshop.")


def ingest_and_chunk(project: Project, paths: list[Path]) -> tuple[list[dict], list[Chunk]]:
    """Ingest documents, then re-chunk the project; returns (per-file reports, chunks)."""
    reports = ingest_paths(project, paths)
    chunks = chunk_sources(project)
    project_index(project)
    return reports, chunks


def remove_document(project: Project, source_id: str) -> None:
    """Forget a document and what came from it (``Project.remove_source``), then re-chunk the rest."""
    project.remove_source(source_id)
    if project.sources():
        chunk_sources(project)
    project_index(project)


def create_sample_project(root: Path, base_model: str | None = None) -> Project:
    """A project preloaded with the sample corpus (ingested and chunked), created once; it trains
    with the recommended preset, as every new project does."""
    project = new_project(root, name="sample")
    project_cfg = project.load_config()
    project_cfg.train.base_model = base_model or project_cfg.train.base_model
    project_cfg.description = project_cfg.description or SAMPLE_DESCRIPTION
    project.save_config(project_cfg)
    if not project.chunks():
        ingest_and_chunk(project, sample_documents())
    return project
