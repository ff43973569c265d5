"""The offline, deterministic ``rules`` generator: pairs from the structure of the text.

It finds FAQ blocks (``Q:`` / ``A:``), definitions ("A member is a person who ..."), numbered
procedures under a heading ("How do I ...?"), table rows ("What is the Fee for Late
payment?"), and falls back to a question about the section heading. Fast and predictable, it
is the demo default; teacher-model generators give more varied questions.
"""

import re

from ..config import PairsConfig
from .base import Candidate, register

_FAQ = re.compile(r"^\s*(?:\*\*)?Q(?:uestion)?:(?:\*\*)?\s*(.+?)\s*\n\s*(?:\*\*)?A(?:nswer)?:(?:\*\*)?\s*(.+?)(?=\n\s*\n|\n\s*(?:\*\*)?Q(?:uestion)?:|\Z)",
                  re.MULTILINE | re.DOTALL | re.IGNORECASE)
_DEFINITION = re.compile(r"^(?:(?:A|An|The)\s+)?([A-Z][\w'’\- ]{1,50}?)\s+(is|are|means|refers to)\s+(.{10,300}?[.!])(?=\s|$)")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+\S")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@register("rules")
def generate_rules(chunk: dict, cfg: PairsConfig) -> list[Candidate]:
    """All rule-based candidates for one chunk, at most ``cfg.max_pairs_per_chunk``."""
    text = chunk["text"]
    topic = chunk["heading_path"][-1] if chunk["heading_path"] else ""
    candidates = faq_pairs(text) + definition_pairs(text) + procedure_pairs(text, topic) + table_pairs(text)
    if not candidates and topic:
        candidates = section_pairs(text, topic)
    unique = {c.question.lower(): c for c in candidates}
    return list(unique.values())[: cfg.max_pairs_per_chunk]


def faq_pairs(text: str) -> list[Candidate]:
    """Question/answer blocks already written by the document's authors."""
    out = []
    for match in _FAQ.finditer(text):
        question, answer = " ".join(match.group(1).split()), " ".join(match.group(2).split())
        out.append(Candidate(question=question, answer=answer, evidence=match.group(2).strip()))
    return out


def definition_pairs(text: str) -> list[Candidate]:
    """'X is Y.' sentences become 'What is X?' with the sentence as the answer."""
    out = []
    for sentence in split_sentences(text):
        match = _DEFINITION.match(sentence)
        if match and len(match.group(1).split()) <= 6:
            term, verb = match.group(1).strip(), "are" if match.group(2) == "are" else "is"
            out.append(Candidate(question=f"What {verb} {lower_first(term)}?", answer=sentence, evidence=sentence))
    return out


def procedure_pairs(text: str, topic: str) -> list[Candidate]:
    """A numbered list under a heading becomes 'How do I <heading>?' answered by the steps."""
    steps = [line.strip() for line in text.splitlines() if _NUMBERED.match(line)]
    if len(steps) < 2 or not topic:
        return []
    answer = "\n".join(steps)
    return [Candidate(question=how_question(topic), answer=answer, evidence=steps[0])]


def table_pairs(text: str) -> list[Candidate]:
    """Markdown table rows become lookups: 'What is the <column> for <first cell>?'."""
    rows = [split_row(line) for line in text.splitlines() if line.strip().startswith("|")]
    rows = [r for r in rows if r and not all(set(c) <= set("-: ") for c in r)]
    if len(rows) < 2:
        return []
    header, out = rows[0], []
    for row in rows[1:]:
        for column, value in list(zip(header, row))[1:]:
            if row[0] and column and value:
                out.append(Candidate(question=f"What is the {lower_first(column)} for {row[0]}?",
                                     answer=f"The {lower_first(column)} for {row[0]} is {value}.",
                                     evidence=value))
    return out


def section_pairs(text: str, topic: str) -> list[Candidate]:
    """Fallback: 'What should I know about <heading>?' answered by the section's first sentences."""
    sentences = split_sentences(text)[:2]
    if not sentences:
        return []
    answer = " ".join(sentences)
    return [Candidate(question=f"What should I know about {lower_first(topic)}?", answer=answer,
                      evidence=sentences[0])]


def split_sentences(text: str) -> list[str]:
    """Sentences of prose lines (headings, list items and table rows are not prose)."""
    prose = " ".join(line.strip() for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith(("|", "#", "-", "*")) and not _NUMBERED.match(line))
    return [s.strip() for s in _SENTENCE_END.split(prose) if len(s.strip()) > 15]


def split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def how_question(topic: str) -> str:
    """'How to open an account' -> 'How do I open an account?'; other headings ask for the steps."""
    topic = topic.strip().rstrip("?.:")
    lowered = lower_first(topic)
    if lowered.lower().startswith("how to "):
        return f"How do I {lowered[7:]}?"
    if lowered.lower().startswith("how "):
        return topic[0].upper() + topic[1:] + "?"
    return f"What are the steps for {lowered}?"


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word looks like a name or acronym."""
    first = text.split()[0] if text.split() else ""
    if len(first) > 1 and (first.isupper() or first[1:] != first[1:].lower()):
        return text
    return text[:1].lower() + text[1:]
