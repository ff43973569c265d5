"""The result type shared by all document parsers, and the parser registry.

A parser takes the raw bytes of one file and returns an ``ExtractedDocument`` whose ``text`` is
Markdown: headings become ``#`` lines so that chunking can keep each chunk's heading path,
whatever the original format. Parsers raise the typed errors of ``builder.errors``.
"""

from dataclasses import dataclass, field
from typing import Callable

from ..config import IngestConfig


@dataclass
class ExtractedDocument:
    """Text pulled out of one document, plus what the per-file report shows."""

    text: str
    pages: int | None = None  # None: no page structure (estimated from the length at ingest)
    warnings: list[str] = field(default_factory=list)
    pages_estimated: bool = False

    @property
    def headings(self) -> int:
        return sum(1 for line in self.text.splitlines() if line.startswith("#"))


Parser = Callable[[bytes, IngestConfig], ExtractedDocument]
PARSERS: dict[str, Parser] = {}


def register(*suffixes: str) -> Callable[[Parser], Parser]:
    """Decorator: make ``parser`` the reader for the given file suffixes."""
    def wrap(parser: Parser) -> Parser:
        for suffix in suffixes:
            PARSERS[suffix] = parser
        return parser
    return wrap
