"""HTML: keep the main text as Markdown; drop scripts, styles, navigation and page chrome."""

from bs4 import BeautifulSoup

from ..config import IngestConfig
from .base import ExtractedDocument, register
from .text import decode_text

_DROP = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe", "template"]
_BLOCKS = {"p", "li", "pre", "blockquote", "dt", "dd", "caption"}


@register(".html", ".htm")
def parse_html(data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    text, warnings = decode_text(data)
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(_DROP):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    return ExtractedDocument(text="\n\n".join(html_blocks(root)), warnings=warnings)


def html_blocks(root) -> list[str]:
    """Walk the tree in document order and emit one Markdown block per heading/paragraph/row."""
    blocks: list[str] = []
    for el in root.find_all(True):
        name = el.name
        if name in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            blocks.append("#" * int(name[1]) + " " + el.get_text(" ", strip=True))
        elif name == "tr":
            cells = [c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])]
            blocks.append("| " + " | ".join(cells) + " |")
        elif name in _BLOCKS and not el.find_parent(list(_BLOCKS - {"pre"}) + ["table"]):
            prefix = "- " if name == "li" else ""
            content = el.get_text(" ", strip=True)
            if content:
                blocks.append(prefix + content)
    return _join_table_rows(blocks)


def _join_table_rows(blocks: list[str]) -> list[str]:
    """Consecutive table rows form one block (a Markdown table), not one block per row."""
    out: list[str] = []
    for block in blocks:
        if block.startswith("| ") and out and out[-1].startswith("| "):
            out[-1] += "\n" + block
        else:
            out.append(block)
    return out
