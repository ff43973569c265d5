"""Ingest documents into a project: files, folders and zip archives of PDF/DOCX/HTML/MD/TXT.

Usage::

    reports = ingest_paths(project, [Path("docs/"), Path("handbook.pdf")])

Each file is stored under a generated name, parsed by the parser registered for its suffix,
and its text saved as Markdown in ``extracted/``. One bad file never stops the batch: it gets a
report row with ``status="error"`` and a plain-language message, and every good file is kept.
A file from a zip is named with its archive: ``handbook.zip › policies/leave.md``.
"""

import io
import logging
import math
import zipfile
from pathlib import Path, PurePosixPath

from ..config import IngestConfig
from ..errors import (BuilderError, CorruptDocument, DocumentTooLarge, NoTextExtracted, ProjectError,
                      UnsupportedDocument)
from ..project import Project, display_name
from ..storage import atomic_write_text
from . import docx, html, pdf, text  # noqa: F401  (registers the parsers)
from .base import PARSERS, ExtractedDocument
from .docx import check_zip_expansion

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = sorted(PARSERS) + [".zip"]
CHARS_PER_PAGE = 3000  # page estimate for formats without pages (a typical printed page)


def ingest_paths(project: Project, paths: list[Path], cfg: IngestConfig | None = None) -> list[dict]:
    """Ingest files, folders (recursively) and zip archives; return one report row per document."""
    cfg = cfg or project.load_config().ingest
    reports: list[dict] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise ProjectError(f"no such file or folder: {path}")
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise ProjectError(f"the folder {path} is empty")
        for file in files:
            reports.extend(ingest_file(project, file, cfg))
    return reports


def ingest_file(project: Project, path: Path, cfg: IngestConfig) -> list[dict]:
    """Ingest one file from disk (a zip yields one report row per member)."""
    size = path.stat().st_size
    if size > cfg.max_file_bytes:
        return [error_row(display_name(path.name), DocumentTooLarge(
            f"{size:,} bytes is over the {cfg.max_file_bytes:,}-byte limit"))]
    data = path.read_bytes()
    if path.suffix.lower() == ".zip":
        return ingest_zip(project, path.name, data, cfg)
    return [ingest_bytes(project, path.name, data, cfg)]


def ingest_bytes(project: Project, name: str, data: bytes, cfg: IngestConfig, archive: str | None = None) -> dict:
    """Parse, store and record one document; errors become a report row, never an exception.

    ``archive`` names the zip that ``name`` (then a path inside it) came from.
    """
    label = member_label(archive, name) if archive else display_name(name)
    try:
        doc = extract(name, data, cfg)
    except BuilderError as exc:
        return error_row(label, exc)
    except Exception as exc:  # noqa: BLE001  a parser bug on one hostile file must not stop the batch
        log.warning("unexpected %s while reading %r: %s", type(exc).__name__, label, exc)
        log.debug("details", exc_info=True)
        return error_row(label, CorruptDocument(f"the file could not be read ({type(exc).__name__}); "
                                                "is it damaged?"))
    row = project.store_source(data, name)
    row.original_name = label
    atomic_write_text(project.extracted_dir / f"{row.id}.md", doc.text)
    row.report = {"status": "ok", "pages": doc.pages, "pages_estimated": doc.pages_estimated, "chars": len(doc.text),
                  "headings": doc.headings, "warnings": doc.warnings}
    sources = [r for r in project.sources() if r.id != row.id]
    project.save_sources(sources + [row])
    return {"name": label, "source_id": row.id, **row.report}


def extract(name: str, data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    """Pick the parser by suffix and run it; empty files and unknown types are typed errors."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    parser = PARSERS.get(suffix)
    if parser is None:
        known = ", ".join(SUPPORTED_SUFFIXES)
        raise UnsupportedDocument(f"'{suffix or 'no extension'}' files are not supported (supported: {known})")
    if not data.strip():
        raise UnsupportedDocument("the file is empty (0 bytes of text)")
    doc = parser(data, cfg)
    if not doc.text.strip():
        raise NoTextExtracted("no text could be extracted from this file")
    if len(doc.text) > cfg.max_text_chars:
        raise DocumentTooLarge(f"the text has {len(doc.text):,} characters; the limit is {cfg.max_text_chars:,} "
                               "(split the file, or raise ingest.max_text_chars)")
    if doc.pages is None:
        doc.pages, doc.pages_estimated = max(1, math.ceil(len(doc.text) / CHARS_PER_PAGE)), True
    return doc


def ingest_zip(project: Project, name: str, data: bytes, cfg: IngestConfig) -> list[dict]:
    """Ingest every supported member of a zip; unsafe member paths are skipped with a report row."""
    try:
        check_zip_expansion(data, cfg, what="zip archive")
    except BuilderError as exc:
        return [error_row(display_name(name), exc)]
    rows = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            member = PurePosixPath(info.filename.replace("\\", "/"))
            label = member_label(name, info.filename)
            if info.is_dir():
                continue
            if member.is_absolute() or ".." in member.parts or member.parts[0].endswith(":"):
                rows.append(error_row(label, UnsupportedDocument("unsafe path inside the archive; skipped")))
                continue
            if member.suffix.lower() == ".zip":
                nested = UnsupportedDocument("archives inside archives are not opened; unpack it first")
                rows.append(error_row(label, nested))
                continue
            try:
                member_data = zf.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                damaged = CorruptDocument(f"damaged archive member ({type(exc).__name__}); skipped")
                rows.append(error_row(label, damaged))
                continue
            rows.append(ingest_bytes(project, str(member), member_data, cfg, archive=name))
    return rows


def member_label(archive: str, member: str, max_chars: int = 160) -> str:
    """How a file inside a zip is shown: ``handbook.zip › policies/leave.md`` (display only)."""
    path = "".join(ch for ch in member.replace("\\", "/") if ch.isprintable()) or "unnamed"
    if len(path) > max_chars:
        path = "..." + path[3 - max_chars:]
    return f"{display_name(archive)} › {path}"


def error_row(label: str, exc: BuilderError) -> dict:
    """A report row for a file that could not be ingested (``label``: its name as shown)."""
    return {"name": label, "status": "error", "error": str(exc),
            "error_type": type(exc).__name__, "pages": 0, "chars": 0, "headings": 0, "warnings": []}
