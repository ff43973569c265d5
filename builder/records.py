"""Typed records of a project's tables, and the one way each gets its id.

    source = Source.from_dict(row)      # a sources.jsonl row
    chunk = Chunk.from_dict(row)        # a chunks.jsonl row
    pair = Pair.from_dict(row)          # a pairs.jsonl row; missing optional keys take their defaults
    row = pair.to_dict()                # the same JSON shape back, keys in field order

    chunk_id(source_id, heading_path, text)        # content hash: stable across re-chunking
    pair_id(generator, chunk_id, question, answer) # see below

The fields are the JSON keys. A field added later gets a default here, so files written before
it still load; keys a file has and a record does not know are dropped on loading. Pairs are made
by ``builder.pairs.new_pair`` (the one constructor: it also grounds and checks the text); this
module only describes them. Ids are the first 16 hex digits of a SHA-256 (``content_id``).
"""

import hashlib
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from .errors import ProjectError

ID_HEX_DIGITS = 16
STATUSES = ("pending", "accepted", "rejected", "edited")
BY_PERSON = ("manual", "import")  # generators of pairs a person wrote or brought: kept as written
_WORD = re.compile(r"\w+", re.UNICODE)


class Record:
    """``from_dict``/``to_dict`` for the dataclasses below (one JSON object per record)."""

    @classmethod
    def from_dict(cls, row: dict[str, Any]):
        known = {f.name: f for f in fields(cls)}
        missing = [name for name, f in known.items()
                   if name not in row and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise ProjectError(f"a {cls.__name__.lower()} row lacks {', '.join(missing)}: {str(row)[:120]}")
        return cls(**{key: value for key, value in row.items() if key in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class Source(Record):
    """An uploaded document, stored under a generated name; ``report`` is what ingesting it found."""

    id: str
    original_name: str
    stored_name: str
    bytes: int
    sha256: str
    report: dict | None = None


@dataclass(kw_only=True)
class Chunk(Record):
    """A passage of a source's extracted text, under its heading path, with its token count."""

    id: str
    source_id: str
    heading_path: list[str] = field(default_factory=list)
    text: str
    tokens: int = 0

    @property
    def heading(self) -> str:
        return " › ".join(self.heading_path)


@dataclass(kw_only=True)
class Pair(Record):
    """A question/answer pair: the passage it comes from, its evidence span, scores and review."""

    id: str
    question: str
    answer: str
    chunk_id: str
    evidence: dict | None = None  # {start, end, text} in the chunk's text
    generator: str = "unknown"
    scores: dict = field(default_factory=lambda: {"grounding": None, "duplicate_of": None})
    flags: list[str] = field(default_factory=list)
    status: str = "pending"
    edited_by_user: bool = False
    fact: str = ""   # the statement of the chunk the pair asks about; its phrasings share it
    split: str = ""  # "train" or "eval" when a person chose; empty: decided by ``splits``

    def to_dict(self) -> dict[str, Any]:
        """The row; ``fact`` and ``split`` only when set, so rows written before them stay byte-for-byte."""
        row = asdict(self)
        return {key: value for key, value in row.items() if key not in ("fact", "split") or value}


def content_id(*parts: str) -> str:
    """A stable id for content: the start of the SHA-256 of the parts joined by U+001F."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:ID_HEX_DIGITS]


def words(text: str) -> list[str]:
    """The lower-cased words of a text (no punctuation, no spacing)."""
    return [word.lower() for word in _WORD.findall(text)]


def words_key(text: str) -> str:
    """Lower-cased words joined by spaces: the identity of a question for ids and duplicates."""
    return " ".join(words(text))


def chunk_id(source_id: str, heading_path: list[str], text: str) -> str:
    return content_id(source_id, *heading_path, text)


def pair_id(generator: str, chunk_id: str | None, question: str, answer: str) -> str:
    """A generated pair is its chunk and question (in words: case and punctuation do not count),
    so asking the same about the same passage again gives the same id; a pair a person wrote or
    imported (``BY_PERSON``) is its own text."""
    if generator in BY_PERSON:
        return content_id(generator, question, answer)
    return content_id(chunk_id or "", words_key(question))
