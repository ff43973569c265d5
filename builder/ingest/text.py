"""Plain text and Markdown: decode bytes robustly, keep Markdown structure as it is.

Text files are read as UTF-8 (with or without BOM) or UTF-16 with BOM; anything else goes to
charset-normalizer, which guesses the encoding from the bytes (Windows code pages, ISO-8859,
Shift-JIS, GB18030, Big5...). A guess is never silent: the report keeps a warning naming it.
"""

import codecs
import re

from charset_normalizer import from_bytes

from ..config import IngestConfig
from ..errors import CorruptDocument
from .base import ExtractedDocument, register

_BOMS = [(codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]
# Encodings text files are saved in today, most common first: the detector chooses among these
# only (DOS and classic-Mac code pages read Western text as noise too easily), and between
# equally good guesses the earlier one wins (cp1252 and cp1250 often tie on French text).
_ENCODINGS = ["cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
              "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_15", "koi8_r", "koi8_u", "cp932", "shift_jis",
              "euc_jp", "iso2022_jp", "gb18030", "big5", "cp949", "euc_kr", "cp874",
              "utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"]
_RANK = {name: i for i, name in enumerate(_ENCODINGS)}


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """Decode bytes as UTF-8 (with or without BOM) or UTF-16 with BOM; else as the guessed encoding.

    Returns the text and warnings (a guessed encoding, removed NUL bytes).
    """
    warnings: list[str] = []
    text = next((data.decode(codec, errors="replace") for bom, codec in _BOMS if data.startswith(bom)), None)
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, encoding = guess_encoding(data)
            warnings.append(f"not UTF-8: the encoding was guessed as {encoding}; check that the text reads right")
    if "\x00" in text:
        warnings.append(f"removed {text.count(chr(0))} NUL bytes (is this really a text file?)")
        text = text.replace("\x00", "")
        if not text.strip():
            raise CorruptDocument("the file holds only NUL bytes: it looks binary, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


def guess_encoding(data: bytes) -> tuple[str, str]:
    """Decode non-UTF-8 bytes with charset-normalizer's best guess; return (text, encoding name)."""
    matches = from_bytes(data, cp_isolation=_ENCODINGS)
    best = matches.best()
    if best is None:
        raise CorruptDocument("the file does not read as text in any common encoding: it looks binary")
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    names = [name for match in tied for name in match.could_be_from_charset]
    encoding = min(names, key=lambda name: _RANK.get(name, len(_RANK)))
    return data.decode(encoding, errors="replace"), encoding


_CAPS_TITLE = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?[^a-z]{3,80}$")
_SECTION_NUMBER = re.compile(r"^\d+(?:\.\d+)*\.?\s")
_NUMBERED_TITLE = re.compile(r"^\d+(?:\.\d+)*\.?\s+[A-Z][^.:;!?]{1,60}$")


def promote_headings(text: str, numbered: bool = False) -> str:
    """Mark plain-text section titles as Markdown headings, so chunks keep a heading path.

    A title is a short line in capitals (``WELCOME``, ``3. THE INDUCTION``; a line in a script
    without capitals, such as Chinese, is never one) standing alone between blank lines, or a
    numbered one opening a block (``1. TICKETS`` right above ``1.1 A ticket is ...``), or, with
    ``numbered``, a short numbered line without final punctuation (``2. Definitions``, as PDF
    text usually has no blank lines). Numbered titles with a dotted number (``2.1``) become a
    level deeper.
    """
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        opens = i == 0 or not lines[i - 1].strip()
        alone = opens and (i + 1 == len(lines) or not lines[i + 1].strip())
        caps = (_CAPS_TITLE.match(stripped) and stripped.isupper() and sum(c.isalpha() for c in stripped) >= 3
                and (alone or opens and _SECTION_NUMBER.match(stripped) and not stripped.endswith(tuple(".,;:!?"))))
        titled = numbered and _NUMBERED_TITLE.match(stripped) and len(stripped.split()) <= 8
        if caps or titled:
            level = 3 if re.match(r"^\d+\.\d+", stripped) else 2
            out.append("#" * level + " " + stripped)
        else:
            out.append(line)
    return "\n".join(out)


_LEADER = re.compile(r"^[ \t]*(\S.{0,60}?\S)(?:[ \t]+(?:\.[ \t]?){3,}|(?:\.[ \t]?){5,})[ \t]*(\S.*?)[ \t]*$",
                     re.MULTILINE)


def leader_lines(text: str) -> str:
    """Write a price-list line joined by leader dots as a list item: 'Annual berth .... £410 per metre'
    -> '- Annual berth: £410 per metre', so its label stays with its value. A contents line whose
    value is a bare page number ('Introduction ....... 3') is left as it is."""
    return _LEADER.sub(lambda m: m[0] if m[2].isdigit() else f"- {m[1]}: {m[2]}", text)


@register(".txt", ".text")
def parse_text(data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    text, warnings = decode_text(data)
    return ExtractedDocument(text=promote_headings(leader_lines(text)), warnings=warnings)


@register(".md", ".markdown")
def parse_markdown(data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    text, warnings = decode_text(data)
    return ExtractedDocument(text=text, warnings=warnings)
