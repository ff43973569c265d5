"""Split a chunk's Markdown into statements: units that each state something on their own.

    for s in split_statements("To book you must:\\n- be aged 21 or over;", ["Booking"]):
        print(s.kind, s.text)      # item  To book you must be aged 21 or over.

What becomes a statement:

- prose sentences (pysbd sentence boundaries; lines wrapped mid-sentence, as PDF text is,
  are joined first, while short title-like lines stay apart);
- list items, joined with their lead-in ("To book you must:" + "- be aged 21 or over" ->
  "To book you must be aged 21 or over."), wrapped item lines included; numbered items are
  ``step`` statements that keep their number and their procedure heading;
- table rows, carrying their header ("A | 07:00" under "Slot | Time" -> "Slot A: time 07:00.");
  a table cut off by the chunker keeps the header of the chunk before (``carried_header``);
- FAQ answers ("Q: ... A: ..."), which keep the author's question.

Headings, and short title-like lines inside a chunk ("Resolution 2 — Heron fleet expansion"),
are context, not statements. Page furniture ("Page 2 of 3") is dropped.
"""

import re
from dataclasses import dataclass, field

from .keyfacts import KeyFact, key_facts
from .words import AUXILIARIES, DETERMINERS, PREPOSITIONS, is_adjective, is_base_verb, is_noun, lower_first, verb_forms

_ITEM = re.compile(r"^\s*(?:[-*•▪◦●·]|(\d{1,3})[.)]|\(?[a-z]\)|\(?[ivx]{1,4}\)|\d{1,3}(?:\.\d{1,3})+\.?)\s+(?=\S)")
_STEP = re.compile(r"^\s*\d{1,3}[.)]\s")
_FAQ = re.compile(r"^\s*(?:\*\*)?(Q|A|Question|Answer)\s*[:.](?:\*\*)?\s*", re.IGNORECASE)
_PAGE_FURNITURE = re.compile(r"^\s*(?:page\s+\d+(?:\s+of\s+\d+)?|\d+\s*/\s*\d+|-\s*\d+\s*-)\s*$", re.IGNORECASE)
_TERMINAL = ".!?:;”\"’)"
_SHORT_LINE_CHARS = 60
_MIN_WORDS = 3
_MIN_CLAUSE_WORDS = 5
_MAX_THING_WORDS = 10
_NUMBERED_TITLE = re.compile(r"^[A-Z][a-z]+ \d+[A-Za-z]?\s+[—–-]\s+\S")
_POSSIBLE_BOUNDARY = re.compile(r"[.!?;][\"”’')\]]*\s+\S")
_NOT_BEFORE_VERB = DETERMINERS | PREPOSITIONS | {"and", "or", "nor", "to"}
_LISTED_CLAUSE = re.compile(r",\s+(?:and\s+|or\s+)?(?=[a-z0-9])")  # 'printing is 8p a gram, and a sheet costs 150p'
_LABELLED_ITEM = re.compile(r"[^:]{1,80}: \S")
_TABLE_RULE = re.compile(r"[\s|:\-]+")
_ABBREVIATION_END = re.compile(r"\b(?:[Nn]o|[Nn]r|[Rr]ef|[Ff]ig|[Vv]ol|[Aa]rt|[Ss]ec|[Tt]el|[Pp]ara)\.$")


@dataclass
class Statement:
    """One statement of a chunk, with what it needs to be read and asked about on its own."""

    text: str
    kind: str = "sentence"  # sentence | item | step | row | line | faq
    context: tuple[str, ...] = ()
    evidence: str = ""
    lead_in: str = ""
    step: int | None = None
    faq_question: str = ""
    row: dict | None = None  # table rows: {"key", "key_header", "cells": [(header, value)]}
    facts: list[KeyFact] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.facts:
            self.facts = key_facts(self.text)


def split_statements(text: str, heading_path: list[str] | tuple = (),
                     carried_header: list[str] | None = None) -> list[Statement]:
    """The statements of one chunk, in reading order."""
    return Reader(list(heading_path), carried_header).read(text)


def last_table_header(text: str, carried_header: list[str] | None = None) -> list[str] | None:
    """The header of the last table in ``text``: the next chunk may continue that table."""
    reader = Reader([], carried_header)
    for kind, lines in blocks(text):
        if kind == "table":
            reader.read_table(lines)
    return reader.header


class Reader:
    """Walks the lines of a chunk once, keeping the context each statement needs."""

    def __init__(self, heading_path: list[str], carried_header: list[str] | None) -> None:
        self.context = [clean_heading(h) for h in heading_path]
        self.local: str = ""
        self.lead_in: str = ""
        self.lead_marker: str = ""  # the marker of an item that is itself a lead-in ('3.2 ... rates:')
        self.header = carried_header
        self.text = ""
        self.out: list[Statement] = []

    def read(self, text: str) -> list[Statement]:
        self.text = " ".join(line for line in text.splitlines() if not line.lstrip().startswith("|"))
        for kind, lines in blocks(text):
            getattr(self, f"read_{kind}")(lines)
        return [s for s in self.out if len(s.text.split()) >= _MIN_WORDS or s.facts]

    def where(self) -> tuple[str, ...]:
        return tuple(self.context + ([self.local] if self.local else []))

    def add(self, text: str, evidence: str, **fields) -> None:
        text = tidy(text)
        if text:
            self.out.append(Statement(text=text, context=self.where(), evidence=evidence.strip(), **fields))

    def read_heading(self, lines: list[str]) -> None:
        self.local = clean_heading(lines[0].lstrip("#"))
        self.lead_in, self.lead_marker = "", ""

    def read_paragraph(self, lines: list[str]) -> None:
        self.lead_in, self.lead_marker = "", ""
        for segment in segments(lines):
            if is_title_like(segment):
                self.local, self.lead_in = clean_heading(segment), ""
                continue
            if self.lead_in and not ends_sentence(segment):  # 'Results:' + 'Ann Lee — 203 votes'
                self.add(join_lead_in(self.lead_in, plain(segment)), segment, kind="line", lead_in=self.lead_in)
                continue
            for sentence in split_sentences(segment):
                if plain(sentence).endswith(":"):
                    self.lead_in = plain(sentence)
                    if key_facts(sentence):  # 'Entitlement is in addition to the 8 UK bank holidays and ...:'
                        self.add(f"{plain(sentence).rstrip(':').rstrip()}.", sentence, kind="sentence")
                else:
                    self.lead_in = ""
                    self.add(sentence, sentence, kind="sentence" if ends_sentence(sentence) else "line")

    def read_item(self, lines: list[str]) -> None:
        if self.lead_marker and marker_style(lines[0]) == self.lead_marker:
            self.lead_in, self.lead_marker = "", ""  # a sibling of the item that led in: its list has ended
        marker = _STEP.match(lines[0])
        body = " ".join(line.strip() for line in [_ITEM.sub("", lines[0], count=1)] + lines[1:])
        body = plain(body).rstrip(";,").strip()
        body = re.sub(r"[;,]?\s+(?:and|or)$", "", body)
        step = int(re.match(r"\s*(\d+)", lines[0]).group(1)) if marker else None
        kind = "step" if marker else "item"
        evidence = lines[0] if len(lines) == 1 else lines[0].strip()
        sentences = split_sentences(body) or [body]
        lead_in = self.lead_in if not self.lead_marker or _LABELLED_ITEM.match(sentences[0]) else ""
        if lead_in:  # an item's own lead-in reads on only into 'label: value' items; other items are a list
            sentences[0] = join_lead_in(lead_in, sentences[0])
        opens_list = not self.lead_in and plain(sentences[-1]).endswith(":")  # '3.2 Overtime is paid at these rates:'
        for sentence in sentences:
            self.add(sentence, evidence if len(sentences) == 1 else sentence, kind=kind, step=step, lead_in=lead_in)
        if opens_list:
            self.lead_in, self.lead_marker = plain(sentences[-1]), marker_style(lines[0])

    def read_table(self, lines: list[str]) -> None:
        """Rows with their header. A table whose first row is ruled off (``|---|`` under it) has
        its own header; only a table cut off by the chunker continues the header before it."""
        ruled = len(lines) > 1 and _TABLE_RULE.fullmatch(lines[1]) is not None
        lines = [line for line in lines if not _TABLE_RULE.fullmatch(line)]
        rows = [split_row(line) for line in lines]
        continues = not ruled and self.header is not None and len(self.header) == len(rows[0]) and any(
            f.kind not in {"name", "code", "year"} for cell in rows[0] for f in key_facts(cell))
        if not continues:
            self.header, rows, lines = [plain(c) for c in rows[0]], rows[1:], lines[1:]
        for row, line in zip(rows, lines):
            self.add_row(row, line)
        self.lead_in, self.lead_marker = "", ""

    def add_row(self, row: list[str], line: str) -> None:
        """One row as 'key: column value; column value.' The key is the first cell, or the section's
        heading when every column is a day ('| Monday to Friday | Saturday |' over opening times)."""
        header = self.header or [""] * len(row)
        cells = [(plain(h), plain(v)) for h, v in zip(header, row)]
        if len(cells) >= 2 and all(names_days(h) for h, _ in cells) and self.where():
            cells = [("", self.where()[-1])] + cells
        key_header, key = cells[0] if cells else ("", "")
        values = [(h, v) for h, v in cells[1:] if v and v not in {"-", "–", "—"}]
        if not key or not values:
            return
        label = f"{key_header} {key}" if key_header and (len(key) <= 3 or re.fullmatch(r"[\d\W]+", key)) else key
        parts = [f"{self.header_words(h)} {sentence_value(v)}" if h else v for h, v in values]
        self.add(f"{label}: {'; '.join(parts)}.", line,
                 kind="row", row={"key": label, "key_header": key_header, "cells": values})

    def header_words(self, header: str) -> str:
        """A column header inside a sentence: lower-cased unless its first word is a name in the chunk."""
        first = header.split()[0] if header.split() else ""
        return header if re.search(rf"(?<![.!?:|] )(?<!^)\b{re.escape(first)}\b", self.text) else lower_first(header)

    def read_faq(self, lines: list[str]) -> None:
        question = ""
        for line in lines:
            match = _FAQ.match(line)
            if match and match.group(1).lower().startswith("q"):
                question = plain(line[match.end():])
            elif match:
                answer = plain(line[match.end():])
                for sentence in merge_short_replies(split_sentences(answer)):
                    self.add(sentence, sentence, kind="faq", faq_question=question)
            elif self.out and self.out[-1].kind == "faq":
                self.add(line, line, kind="faq", faq_question=question)


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """``(kind, lines)`` runs: heading, table, faq, item (with its wrapped lines), paragraph."""
    out: list[tuple[str, list[str]]] = [("blank", [])]
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or _PAGE_FURNITURE.match(line):
            out.append(("blank", []))
            continue
        kind, previous = line_kind(line), out[-1][0]
        if kind == "paragraph" and previous in {"item", "faq"} or kind == previous and kind in {"table", "paragraph",
                                                                                                  "faq"}:
            out[-1][1].append(line)
        else:
            out.append((kind, [line]))
    return [(kind, lines) for kind, lines in out if kind != "blank"]


def marker_style(line: str) -> str:
    """The kind of an item's marker: 'dotted1' ('2.1'), 'number' ('3.'), 'letter' ('(a)'), 'roman'
    ('(iv)') or 'bullet', so that a nested list is told from its parent's."""
    match = _ITEM.match(line)
    token = match.group(0).strip() if match else ""
    if re.fullmatch(r"\d+(?:\.\d+)+\.?", token):
        return f"dotted{token.rstrip('.').count('.')}"
    if re.fullmatch(r"\d+[.)]", token):
        return "number"
    if re.fullmatch(r"\(?[ivx]{2,4}\)", token):
        return "roman"
    return "letter" if re.fullmatch(r"\(?[a-z]\)", token) else "bullet"


def line_kind(line: str) -> str:
    stripped = line.strip()
    if stripped.startswith("#"):
        return "heading"
    if stripped.startswith("|"):
        return "table"
    if _FAQ.match(line):
        return "faq"
    return "item" if _ITEM.match(line) else "paragraph"


def segments(lines: list[str]) -> list[str]:
    """Lines joined into runs of running text; a short line with no closing punctuation that is
    followed by a capitalised line stands alone (a title, a 'Name: value' line)."""
    out = [lines[0].strip()]
    for previous, line in zip(lines, lines[1:]):
        prev, line = previous.strip(), line.strip()
        stands_alone = prev.endswith(tuple(_TERMINAL)) or line[:1] in "“\"" \
            or line[:1].isupper() and (len(prev) < _SHORT_LINE_CHARS or is_title_like(prev))
        if stands_alone:
            out.append(line)
        else:
            out[-1] = f"{out[-1]} {line}"
    return out


def is_title_like(segment: str) -> bool:
    """A short line with no closing punctuation, mostly capitalised words, and no figures."""
    text = plain(segment)
    words = [w for w in re.findall(r"[A-Za-z][\w’'\-]*", text) if len(w) > 3]
    if not words or text.endswith(tuple(_TERMINAL)) or len(text.split()) > 12 or ":" in text:
        return False
    capitalised = sum(w[0].isupper() for w in words) / len(words)
    numbered = _NUMBERED_TITLE.match(text) is not None  # 'Resolution 2 — Heron fleet expansion'
    return (capitalised >= 0.6 or numbered) and all(f.kind in {"name", "code", "year"} for f in key_facts(text))


def names_days(text: str) -> bool:
    """'Saturday', 'Monday to Friday', 'Bank holidays': a table column or row of days."""
    return any(f.kind == "day" for f in key_facts(text)) or re.fullmatch(
        r"(?:bank|public) holidays?|weekdays?|weekends?", text.strip(), re.IGNORECASE) is not None


def ends_sentence(text: str) -> bool:
    return plain(text).endswith(tuple(_TERMINAL))


def split_sentences(text: str) -> list[str]:
    """Sentence boundaries by pysbd (abbreviations, decimals and initials handled)."""
    text = " ".join(text.split())
    if not _POSSIBLE_BOUNDARY.search(text):
        return split_clauses(text) if text else []
    out: list[str] = []
    for sentence in (s.strip() for s in segmenter().segment(text) if s.strip()):
        if out and _ABBREVIATION_END.search(out[-1]):
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.extend(split_clauses(sentence))
    return out


def split_clauses(sentence: str) -> list[str]:
    """'Bikes are released at 05:30; returns are possible at any time.' -> two statements; 'You pay for
    materials: printing is 8p a gram, cutting is 60p a minute.' -> the lead, then one per clause."""
    parts = [p.strip() for p in sentence.split("; ")]
    if len(parts) > 1 and all(len(p.split()) >= _MIN_CLAUSE_WORDS for p in parts) and parts[1][:1].islower():
        return [f"{p[:1].upper()}{p[1:]}".rstrip(".") + "." for p in parts]
    lead, colon, rest = sentence.partition(": ")
    listed = [p.strip() for p in _LISTED_CLAUSE.split(rest.rstrip("."))] if colon else []
    if len(listed) > 1 and len(lead.split()) >= 4 and all(
            len(p.split()) >= _MIN_WORDS and is_sentence(p) and any(key_facts(p)) for p in listed):
        return [f"{lead}."] + [f"{p[:1].upper()}{p[1:]}." for p in listed]
    return [sentence]


_SEGMENTER = None


def segmenter():
    global _SEGMENTER
    if _SEGMENTER is None:
        import pysbd

        _SEGMENTER = pysbd.Segmenter(language="en", clean=False)
    return _SEGMENTER


def merge_short_replies(sentences: list[str]) -> list[str]:
    """'No.' + 'A Barrow must go back.' -> 'No. A Barrow must go back.'"""
    out: list[str] = []
    for sentence in sentences:
        if out and len(out[-1].split()) <= 2:
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out


def join_lead_in(lead_in: str, item: str) -> str:
    """'To book you must:' + 'be aged 21 or over' -> 'To book you must be aged 21 or over.'

    An item that is a sentence of its own ('Wear safety boots.') stays as it is; other items
    read on from the lead-in."""
    lead = lead_in.rstrip(":").rstrip()
    label = item.split(": ", 1)[0]
    if _LABELLED_ITEM.match(item) and (label[:1].islower() or not is_sentence(label)):
        return f"{lead}: {item}"  # 'Overtime is paid at these rates: Sunday working: time and three-quarters'
    if item[:1].islower():
        return f"{lead} {item}"
    if is_sentence(item):
        return item
    return f"{lead}: {item}"


def is_sentence(text: str) -> bool:
    """Has a verb of its own: an instruction ('Wear ...') or a finite verb after a subject."""
    words = re.findall(r"[A-Za-z][\w’'\-]*", text)
    if not words:
        return False
    after_comma = re.findall(r"[A-Za-z][\w’'\-]*", text.split(",", 1)[1]) if "," in text else []
    if len(words) > 1 and is_base_verb(words[0]) and not words[1][:1].isupper() \
            or after_comma and is_base_verb(after_comma[0]):
        return True
    listed = set(re.findall(r"([A-Za-z][\w’'\-]*)(?:,| and\b| or\b)", text))  # 'Car parts, tyres and ...': nouns
    return any(w.lower() in AUXILIARIES or w.islower() and verb_forms(w) & {"VBZ", "VBD"}
               and prev.lower() not in _NOT_BEFORE_VERB and not (is_adjective(prev) and not is_noun(prev))
               and not (w in listed and is_noun(w))
               for prev, w in zip(words, words[1:8]))


def is_listed_thing(statement: Statement) -> bool:
    """An item of a list under a heading that names things rather than saying something ('Asbestos
    in any form' under 'Items we cannot take'): short, no verb, no full stop; its heading says what it is."""
    return statement.kind == "item" and not statement.lead_in and bool(statement.context) \
        and len(statement.text.split()) <= _MAX_THING_WORDS and not is_sentence(statement.text) \
        and not plain(statement.evidence).rstrip().endswith((".", "!", "?"))


def tidy(text: str) -> str:
    """Plain text that ends like a sentence."""
    text = plain(text).strip(" ;,")
    if text and text[-1] not in ".!?”\"’)":
        text += "."
    return text


def plain(text: str) -> str:
    """Markdown emphasis and code marks removed, whitespace collapsed."""
    text = " ".join(re.sub(r"(\*\*|__|`)", "", text).replace("*", "").split())
    return re.sub(r"\s+([,.;:!?](?:\s|$))", r"\1", text)


def sentence_value(value: str) -> str:
    """'Each ride that lasts' -> 'each ride that lasts'; 'Day Pass' and 'Odile Fenwright' stay."""
    words = value.split()
    return lower_first(value) if len(words) > 1 and words[1][:1].islower() else value


def split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def clean_heading(heading: str) -> str:
    """'3. THE INDUCTION' -> 'The induction'; '1.1 Who is who' -> 'Who is who'."""
    heading = plain(re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.)\s+", "", heading)).strip()
    letters = [c for c in heading if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        heading = heading[:1] + heading[1:].lower()
    return heading
