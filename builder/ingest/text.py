"""Plain text and Markdown: decode bytes robustly, keep Markdown structure as it is."""

import codecs
import re

from ..config import IngestConfig
from ..errors import CorruptDocument
from .base import ExtractedDocument, register

_BOMS = [(codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """Decode bytes as UTF-8 (with or without BOM) or UTF-16 with BOM; else cp1252 with a count.

    Returns the text and warnings (replaced characters, removed NUL bytes).
    """
    warnings: list[str] = []
    text = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace")
            break
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            replaced = text.count("\ufffd")
            warnings.append(f"not valid UTF-8: read as Windows-1252 ({replaced} characters replaced)")
    if "\x00" in text:
        warnings.append(f"removed {text.count(chr(0))} NUL bytes (is this really a text file?)")
        text = text.replace("\x00", "")
        if not text.strip():
            raise CorruptDocument("the file holds only NUL bytes: it looks binary, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


_CAPS_TITLE = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?[^a-z]{3,80}$")
_NUMBERED_TITLE = re.compile(r"^\d+(?:\.\d+)*\.?\s+[A-Z][^.:;!?]{1,60}$")


def promote_headings(text: str, numbered: bool = False) -> str:
    """Mark plain-text section titles as Markdown headings, so chunks keep a heading path.

    A title is a short line in capitals standing alone between blank lines (``WELCOME``,
    ``3. THE INDUCTION``) or, with ``numbered``, a short numbered line without final
    punctuation (``2. Definitions``, as PDF text usually has no blank lines). Numbered
    titles with a dotted number (``2.1``) become a level deeper.
    """
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        alone = (i == 0 or not lines[i - 1].strip()) and (i + 1 == len(lines) or not lines[i + 1].strip())
        caps = alone and _CAPS_TITLE.match(stripped) and sum(c.isalpha() for c in stripped) >= 3
        titled = numbered and _NUMBERED_TITLE.match(stripped) and len(stripped.split()) <= 8
        if caps or titled:
            level = 3 if re.match(r"^\d+\.\d+", stripped) else 2
            out.append("#" * level + " " + stripped)
        else:
            out.append(line)
    return "\n".join(out)


@register(".txt", ".text")
def parse_text(data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    text, warnings = decode_text(data)
    return ExtractedDocument(text=promote_headings(text), warnings=warnings)


@register(".md", ".markdown")
def parse_markdown(data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    text, warnings = decode_text(data)
    return ExtractedDocument(text=text, warnings=warnings)
