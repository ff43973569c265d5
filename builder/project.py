"""One project = one folder on disk holding everything a user has done so far.

Layout::

    <project>/project.yaml     the ProjectConfig (all stages)
    <project>/sources/         uploads, stored under generated names (<sha256 prefix><ext>)
    <project>/sources.jsonl    one row per upload: id, original name, bytes, ingest report
    <project>/extracted/       the text extracted from each source, as Markdown
    <project>/chunks.jsonl     one chunk per line (id, source_id, heading_path, text, tokens)
    <project>/pairs.jsonl      one question/answer pair per line, with its review status
    <project>/.pairs.lock      taken by every change of pairs.jsonl (``edit_pairs``)
    <project>/runs/<id>/       one training run: config, metrics, checkpoints, adapter, reports (``runs``)

Every write is atomic (see ``storage``); the uploaded file name is never used as a path.
Every change of ``pairs.jsonl`` is a read-modify-write under one per-project lock::

    with project.edit_pairs() as pairs:     # waits for any other editor (process or thread)
        pairs.append(pair)                  # change the list in place; written back on leaving
"""

import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .config import ProjectConfig
from .errors import ProjectError
from .records import ID_HEX_DIGITS, Chunk, Pair, Source

PAIRS_LOCK = ".pairs.lock"
from .storage import atomic_write_bytes, exclusive_lock, read_jsonl, write_jsonl


def default_home() -> Path:
    """Where projects and caches live: ``$DAB_HOME`` or ``~/.local/share/domain-assistant-builder``."""
    env = os.environ.get("DAB_HOME")
    return Path(env) if env else Path.home() / ".local" / "share" / "domain-assistant-builder"


@dataclass
class Project:
    """A handle on a project folder; cheap to create, reads files on demand."""

    root: Path

    @classmethod
    def create(cls, root: Path, name: str | None = None) -> "Project":
        """Create the folder and a default ``project.yaml`` (an existing project is just opened)."""
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise ProjectError(f"{root} exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        project = cls(root)
        if not project.config_path.exists():
            project.save_config(ProjectConfig(name=name or root.name))
        return project

    @classmethod
    def open(cls, root: Path) -> "Project":
        """Open an existing project; raises ProjectError if the folder is not one."""
        root = Path(root)
        if not (root / "project.yaml").is_file():
            raise ProjectError(f"{root} is not a project folder (no project.yaml); create it first")
        return cls(root)

    # --- paths -------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / "project.yaml"

    @property
    def sources_dir(self) -> Path:
        return self.root / "sources"

    @property
    def extracted_dir(self) -> Path:
        return self.root / "extracted"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    # --- config --------------------------------------------------------------------------
    def load_config(self) -> ProjectConfig:
        return ProjectConfig.load(self.config_path)

    def save_config(self, project_cfg: ProjectConfig) -> None:
        project_cfg.save(self.config_path)

    # --- tables (typed records, see ``records``) -------------------------------------------
    def sources(self) -> list[Source]:
        return [Source.from_dict(row) for row in read_jsonl(self.root / "sources.jsonl")]

    def save_sources(self, sources: list[Source]) -> None:
        write_jsonl(self.root / "sources.jsonl", [source.to_dict() for source in sources])

    def chunks(self) -> list[Chunk]:
        return [Chunk.from_dict(row) for row in read_jsonl(self.root / "chunks.jsonl")]

    def save_chunks(self, chunks: list[Chunk]) -> None:
        write_jsonl(self.root / "chunks.jsonl", [chunk.to_dict() for chunk in chunks])

    def pairs(self) -> list[Pair]:
        return [Pair.from_dict(row) for row in read_jsonl(self.root / "pairs.jsonl")]

    def save_pairs(self, pairs: list[Pair]) -> None:
        """Replace ``pairs.jsonl`` (callers that read it first use ``edit_pairs`` instead)."""
        write_jsonl(self.root / "pairs.jsonl", [pair.to_dict() for pair in pairs])

    @contextmanager
    def edit_pairs(self) -> Iterator[list[Pair]]:
        """Change the pairs with no other change lost: take the project's pairs lock (exclusive,
        across processes and threads; ``storage.exclusive_lock``), read ``pairs.jsonl``, yield its
        records as a list to change in place, and write the list back atomically when the block
        ends normally. When the block raises, nothing is written. Not re-entrant: do not call
        another pairs editor inside the block."""
        with exclusive_lock(self.root / PAIRS_LOCK):
            pairs = self.pairs()
            yield pairs
            self.save_pairs(pairs)

    # --- sources -------------------------------------------------------------------------
    def store_source(self, data: bytes, original_name: str) -> Source:
        """Store uploaded bytes under a generated name; return its record (not yet in ``sources.jsonl``).

        The same content uploaded twice is stored once (the id is the content hash).
        """
        digest = hashlib.sha256(data).hexdigest()
        source_id = digest[:ID_HEX_DIGITS]
        stored = self.sources_dir / f"{source_id}{safe_suffix(original_name)}"
        if not stored.exists():
            atomic_write_bytes(stored, data)
        return Source(id=source_id, original_name=display_name(original_name), stored_name=stored.name,
                      bytes=len(data), sha256=digest)

    def remove_source(self, source_id: str) -> None:
        """Forget a source and everything derived from it (extracted text, chunks, pairs)."""
        sources = self.sources()
        kept = [source for source in sources if source.id != source_id]
        if len(kept) == len(sources):
            raise ProjectError(f"no source with id {source_id}")
        with self.edit_pairs() as pairs:
            for source in sources:
                if source.id == source_id:
                    (self.sources_dir / source.stored_name).unlink(missing_ok=True)
            (self.extracted_dir / f"{source_id}.md").unlink(missing_ok=True)
            self.save_sources(kept)
            chunks = self.chunks()
            self.save_chunks([c for c in chunks if c.source_id != source_id])
            dropped = {c.id for c in chunks if c.source_id == source_id}
            pairs[:] = [p for p in pairs if p.chunk_id not in dropped]

    # --- runs ----------------------------------------------------------------------------
    def new_run_dir(self) -> Path:
        """Create and return ``runs/<timestamp>`` (unique even when called twice a second)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for n in range(1000):
            path = self.runs_dir / (stamp if n == 0 else f"{stamp}-{n}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
        raise ProjectError("could not create a run folder")

    def delete(self) -> None:
        """Delete the whole project folder (the UI asks for confirmation first)."""
        if not self.config_path.exists():
            raise ProjectError(f"{self.root} is not a project folder; refusing to delete it")
        shutil.rmtree(self.root)


def new_project(root: Path, name: str | None = None, preset: str = "balanced") -> Project:
    """Create (or open) a project for a person using the wizard or `dab`: a new one trains with a
    hardware-aware preset instead of fixed hyperparameters. An existing project is left as it is."""
    is_new = not (Path(root) / "project.yaml").exists()
    project = Project.create(root, name)
    if is_new:
        project_cfg = project.load_config()
        project_cfg.train.preset = preset
        project.save_config(project_cfg)
    return project


def list_projects(folder: Path) -> list[str]:
    """Names of the project folders (those holding a ``project.yaml``) directly inside ``folder``."""
    if not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if (p / "project.yaml").is_file())


def safe_suffix(name: str) -> str:
    """The lowercase extension of an uploaded name, limited to a short alphanumeric string."""
    suffix = Path(name.replace("\\", "/")).suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 8 else ""


def display_name(name: str, max_chars: int = 120) -> str:
    """The base name of an upload, for display only: no folders, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()) or "unnamed"
    return base if len(base) <= max_chars else base[: max_chars - 3] + "..."
