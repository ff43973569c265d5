"""HTML: keep the main text as Markdown wherever it sits; drop scripts, styles and page chrome.

Text is read block by block from any element: a ``<div>`` or ``<span>`` holds text as well as a
``<p>`` does, and text standing directly in a ``<div>`` next to child elements is its own paragraph.
Each piece of text appears once, however deeply blocks nest. Headings become ``#`` lines, lists
``-``/``1.`` items (nested lists indented), data tables ``| a | b |`` rows, ``<br>`` a line break.

Chrome is dropped: scripts, styles, form controls, ``<nav>``, ``<aside>``, page-level ``<header>``
and ``<footer>`` (inside an article or section they are content), landmark roles (navigation,
banner, contentinfo, complementary, search) and elements whose id or class names them
(``sidebar``, ``breadcrumbs``, ``site-footer``, ``top-nav``...), unless they hold the page's main
content or its ``<h1>``. When the page marks its main content (``<main>``, ``role="main"``, a
single ``<article>``), only that is read.
"""

import re

from bs4 import BeautifulSoup, CData, NavigableString, Tag

from ..config import IngestConfig
from ..errors import CorruptDocument
from .base import ExtractedDocument, register
from .text import decode_text

_DROP = ["script", "style", "noscript", "nav", "aside", "svg", "iframe", "template", "head",
         "button", "label", "select", "textarea", "input", "option"]
_PAGE_CHROME = ["header", "footer"]  # chrome at page level; inside an article or section they are content
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search"}
_CHROME_WORDS = {"nav", "navbar", "navigation", "breadcrumb", "breadcrumbs", "sidebar", "footer"}
_NEVER_CHROME = ["html", "body", "main", "article", "h1"]  # nor is an element holding one of these
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = _HEADINGS | {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "hr", "html", "legend",
    "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul"}
_LAYOUT_CELL = list(_HEADINGS) + ["table"]  # a table whose cells hold these lays out a page, not data
_TEXT_TYPES = (NavigableString, CData)  # not comments, doctypes or processing instructions
_BR = "\x00"  # stands for <br> during the walk (decode_text removed every NUL from the page)


@register(".html", ".htm")
def parse_html(data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    text, warnings = decode_text(data)
    soup = BeautifulSoup(text, "html.parser")
    drop_chrome(soup)
    for br in soup.find_all("br"):
        br.replace_with(_BR)
    try:
        blocks = html_blocks(main_content(soup))
    except RecursionError as exc:
        raise CorruptDocument("the page nests its elements hundreds of levels deep; it cannot be read") from exc
    return ExtractedDocument(text="\n\n".join(blocks), warnings=warnings)


def drop_chrome(soup: BeautifulSoup) -> None:
    """Remove scripts, styles, form controls and navigation/header/footer/aside chrome."""
    for tag in soup(_DROP):
        tag.decompose()
    for tag in soup(_PAGE_CHROME):
        if not tag.decomposed and tag.find_parent(["article", "section", "main"]) is None:
            tag.decompose()
    for tag in soup.find_all(is_chrome):
        if not tag.decomposed and tag.name not in _NEVER_CHROME and tag.find(_NEVER_CHROME) is None:
            tag.decompose()


def is_chrome(tag: Tag) -> bool:
    """A landmark role or an id/class naming navigation, breadcrumbs, sidebars or footers."""
    if tag.get("role") in _CHROME_ROLES:
        return True
    names = [tag.get("id") or ""] + list(tag.get("class") or [])
    return any(word in _CHROME_WORDS for name in names for word in re.split(r"[-_\s]+", name.lower()))


def main_content(soup: BeautifulSoup) -> Tag:
    """The element marked as the page's main content, else the body (several articles: all of them)."""
    articles = soup.find_all("article")
    single_article = articles[0] if len(articles) == 1 else None
    return soup.find("main") or soup.find(attrs={"role": "main"}) or single_article or soup.body or soup


def html_blocks(el: Tag) -> list[str]:
    """Markdown blocks for what ``el`` holds: block children render themselves; the text and inline
    elements between them form paragraphs."""
    blocks: list[str] = []
    run: list[str] = []
    for child in el.children:
        if isinstance(child, Tag) and is_block(child):
            blocks += paragraph(run)
            run = []
            blocks += render_block(child)
        elif isinstance(child, Tag):
            run.append(child.get_text())
        elif type(child) in _TEXT_TYPES:
            run.append(str(child))
    return blocks + paragraph(run)


def is_block(tag: Tag) -> bool:
    """Block elements, and inline ones that wrap a block (``<a><div>...</div></a>``)."""
    return tag.name in _BLOCKS or any(isinstance(d, Tag) and d.name in _BLOCKS for d in tag.descendants)


def paragraph(run: list[str]) -> list[str]:
    """Inline text as one block: spaces collapsed, line breaks (from ``<br>``) kept."""
    lines = (" ".join(line.split()) for line in "".join(run).split(_BR))
    text = "\n".join(line for line in lines if line)
    return [text] if text else []


def one_line(tag: Tag) -> str:
    """The text of a heading or table cell on one line."""
    return " ".join(tag.get_text(" ").replace(_BR, " ").split())


def render_block(tag: Tag) -> list[str]:
    """One block element as Markdown blocks."""
    if tag.name in _HEADINGS:
        title = one_line(tag)
        return ["#" * int(tag.name[1]) + " " + title] if title else []
    if tag.name in {"ul", "ol", "menu"}:
        return [list_block(tag)] if tag.get_text().strip() else []
    if tag.name == "table":
        return table_blocks(tag)
    if tag.name == "pre":
        code = tag.get_text().replace(_BR, "\n").strip("\n")
        return [code] if code.strip() else []
    if tag.name == "hr":
        return []
    return html_blocks(tag)


def list_block(tag: Tag) -> str:
    """A list as Markdown items, one per line; a nested list is indented under its item."""
    lines: list[str] = []
    start = str(tag.get("start", "1"))
    number = int(start) if start.isdigit() else 1
    for child in tag.children:
        if isinstance(child, Tag):
            content = "\n".join(html_blocks(child))
        else:
            content = "\n".join(paragraph([str(child)] if type(child) in _TEXT_TYPES else []))
        if content and child.name == "li":
            marker = f"{number}. " if tag.name == "ol" else "- "
            number += 1
            content = marker + content.replace("\n", "\n" + " " * len(marker))
        lines += [content] if content else []
    return "\n".join(lines)


def table_blocks(table: Tag) -> list[str]:
    """A data table as one block of ``| a | b |`` rows (its caption first); a layout table (cells
    holding headings or tables) as the blocks of its cells."""
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    cells = [[c for c in tr.find_all(["td", "th"]) if c.find_parent("tr") is tr] for tr in rows]
    if any(c.find(_LAYOUT_CELL) for row in cells for c in row):
        return [block for row in cells for c in row for block in html_blocks(c)]
    caption = table.find("caption")
    lines = ["| " + " | ".join(one_line(c) for c in row) + " |" for row in cells if row]
    head = paragraph([caption.get_text()]) if caption is not None and caption.find_parent("table") is table else []
    return head + (["\n".join(lines)] if lines else [])
