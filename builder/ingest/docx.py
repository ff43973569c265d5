"""DOCX via python-docx: headings (Word heading styles) become Markdown headings; tables kept."""

import io
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree
from docx.table import Table
from docx.text.paragraph import Paragraph

from ..config import IngestConfig
from ..errors import CorruptDocument, DocumentTooLarge
from .base import ExtractedDocument, register


@register(".docx")
def parse_docx(data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    check_zip_expansion(data, cfg, what="DOCX")
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, PackageNotFoundError, etree.XMLSyntaxError) as exc:
        raise CorruptDocument(f"not a readable DOCX file ({type(exc).__name__})") from exc
    blocks = [docx_block(item) for item in document.iter_inner_content()]
    return ExtractedDocument(text="\n\n".join(b for b in blocks if b))


def docx_block(item: Paragraph | Table) -> str:
    """One paragraph or table as Markdown."""
    if isinstance(item, Table):
        rows = [[cell.text.strip().replace("\n", " ") for cell in row.cells] for row in item.rows]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in rows)
    text = item.text.strip()
    style = (item.style.name if item.style is not None else "") or ""
    if text and style.startswith("Heading"):
        level = style.removeprefix("Heading").strip()
        return "#" * (int(level) if level.isdigit() else 1) + " " + text
    if text and style == "Title":
        return "# " + text
    if text and "List" in style:
        return "- " + text
    return text


def check_zip_expansion(data: bytes, cfg: IngestConfig, what: str) -> None:
    """Refuse zip containers (DOCX, archives) that would expand past the configured limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise CorruptDocument(f"not a readable {what} file (not a zip container)") from exc
    if len(infos) > cfg.max_archive_entries:
        raise DocumentTooLarge(f"the {what} holds {len(infos)} entries; the limit is {cfg.max_archive_entries}")
    expanded = sum(info.file_size for info in infos)
    if expanded > cfg.max_file_bytes or expanded > cfg.max_expansion_ratio * max(len(data), 1):
        raise DocumentTooLarge(f"the {what} would expand to {expanded:,} bytes (a zip bomb?); refused")
