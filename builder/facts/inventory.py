"""The fact inventory of a chunk, and how much of it a set of answers covers.

    reason = language_problem(chunk.text)          # None for English (or too little text to tell)
    facts = informative_statements(split_statements(chunk.text, chunk.heading_path))
    report = coverage(facts, [pair.answer for pair in pairs])
    report.ratio, [s.text for s in report.uncovered]
    for item in read_chunks(chunks):               # a project's chunks in order: statements or a skip reason
        item.chunk, item.statements, item.skipped

A statement is informative when it carries a key fact (a figure, date, time, duration, code,
contact or proper name), a rule or condition (must, may, cannot, only, unless, if ...), a
definition or a list of things ("takes paper, card, cans and glass"), or is a step of a
procedure, an item of a list under a heading, or an answer the authors wrote to a question. Remarks
("Thank you for your time."), sentences about the document itself ("This guide explains ...")
and bare pronoun statements with nothing to ask about are not.

An answer covers a statement when it states every key fact of it (``fact_in_answer``) and
holds at least ``MIN_WORD_RECALL`` of its content words, so an answer that quotes the
statement, or restates it with the same figures, covers it; one that shares a topic does not.

The language check counts English function words (and English dictionary words) among the
prose words of a text; tables and names are left out, so a price list is not "foreign".
It covers Latin-script languages well; it does not tell one non-English language from another.
"""

import re
from dataclasses import dataclass, field

from ..records import Chunk
from .keyfacts import fact_in_answer
from .statements import Statement, is_listed_thing, last_table_header, split_statements
from .words import FUNCTION_WORDS, lemmas

MIN_WORD_RECALL = 0.75
MIN_LANGUAGE_WORDS = 12
MIN_FUNCTION_SHARE = 0.12
MIN_DICTIONARY_SHARE = 0.6
_RULE = re.compile(r"\b(?:must|may|might|can|cannot|can't|could|should|shall|only|unless|if|never|except|"
                   r"required|compulsory|mandatory|prohibited|forbidden|allowed|permitted|entitled|eligible|"
                   r"need(?:s|ed)?|requires?|leads? to|results? in|not|no one|nobody|at least|no more than|up to|"
                   r"whichever|in full|free of charge|where (?!\w+ly\b)[^,.]{3,60},"  # 'Where a pay date falls on ...,'
                   r"|(?:is|are|will be|was|were)\s+(?:\w+ly\s+|also\s+|still\s+)?"  # a passive: 'is included'
                   r"(?:\w+ed|\w+en|paid|kept|sent|held|met|made|given|done|set|told|put))\b", re.IGNORECASE)
_DEFINITION = re.compile(r"^(?:[\"“]?[A-Z][\w’'\- ]{1,60}[\"”]? (?:means|refers to|is called|stands for)\b"
                         r"|(?:An?|The) [\w’'\- ]{2,40} (?:is|are) (?:an?|the) )")
_ENUMERATION = re.compile(r"\w+(?: [\w’'-]+){0,3}, (?:[\w’'-]+(?: [\w’'-]+){0,3}, )*[\w’'-]+(?: [\w’'-]+){0,3},? "
                          r"(?:and|or) \w")  # three things or more: 'paper, card, cans and glass'
_LABELLED = re.compile(r"[\w’'()-]+(?: [\w’'()-]+){0,5}: \S+ \S")  # 'Sunday working: time and a half'
_LABEL = re.compile(r"(?i)(?:stage|step|part|section|chapter|phase|level|tier|appendix|schedule|option)\s+\w{1,4}[.:]?")
_META = re.compile(r"^(?:This|These) (?:guide|handbook|document|page|section|chapter|leaflet|manual|policy|terms"
                   r"|procedures?|notes?)\b.{0,30}\b(?:explains?|tells?|describes?|sets? out|covers?|contains?"
                   r"|gives?|is for|are for|lists?)\b")
_HERE_IS = re.compile(r"(?i)here(?: is|'s|’s| are) (?:what|how|some|a few|the)\b")  # 'Here's what you need to know'
_GREETING = re.compile(r"(?i)(?:welcome|thank you|thanks|hello|hi|dear)\b[^.!?]{0,60}[.!?]?$")
_WORD = re.compile(r"[^\W\d_]+")


@dataclass
class Coverage:
    """Informative statements that appear in at least one answer, and those that do not."""

    informative: int
    covered: int
    uncovered: list[Statement] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.covered / self.informative if self.informative else 1.0


@dataclass
class ChunkStatements:
    """The statements of one chunk, or why it was skipped (not English)."""

    chunk: Chunk
    statements: list[Statement] = field(default_factory=list)
    skipped: str | None = None


def read_chunks(chunks: list[Chunk]) -> list[ChunkStatements]:
    """Every chunk's statements, in order. A table cut by the chunker keeps its header in the next
    chunk of the same section, and a chunk too short to tell its language takes its document's."""
    languages = {source: language_problem("\n".join(c.text for c in chunks if c.source_id == source))
                 for source in dict.fromkeys(c.source_id for c in chunks)}
    headers: dict[tuple, list[str] | None] = {}
    out = []
    for chunk in chunks:
        section = (chunk.source_id, tuple(chunk.heading_path))
        header = headers.get(section)
        problem = language_problem(chunk.text, fallback=languages[chunk.source_id])
        statements = [] if problem else split_statements(chunk.text, chunk.heading_path, header)
        out.append(ChunkStatements(chunk, statements, f"skipped: {problem}" if problem else None))
        headers[section] = last_table_header(chunk.text, header)
    return out


def uninformative_reason(statement: Statement) -> str | None:
    """Why a statement is not worth a question (None when it is informative)."""
    if statement.kind in {"step", "faq", "row"} or is_listed_thing(statement):
        return None
    if _META.match(statement.text) or _HERE_IS.match(statement.text):
        return "describes the document itself"
    if _GREETING.match(statement.text):
        return "a greeting ('Welcome to ...'), not a fact"
    if _LABEL.fullmatch(statement.text.strip()):
        return "a label of what follows ('Stage 2.'), not a statement"
    if statement.facts or _RULE.search(statement.text) or _DEFINITION.match(statement.text) \
            or _ENUMERATION.search(statement.text) or statement.kind == "item" and _LABELLED.match(statement.text):
        return None
    return "no figure, date, name, rule, definition or list to ask about"


def informative_statements(statements: list[Statement]) -> list[Statement]:
    return [s for s in statements if uninformative_reason(s) is None]


def content_words(text: str) -> list[str]:
    """Lower-cased words and numbers that are not English function words."""
    return [w for w in re.findall(r"\w+", text.lower()) if w not in FUNCTION_WORDS]


def covers(answer: str, statement: Statement) -> bool:
    """Whether ``answer`` states ``statement``: all its key facts and most of its words."""
    words = set(content_words(statement.text))
    if words:
        present = set(content_words(answer))
        if len(words & present) < MIN_WORD_RECALL * len(words):
            return False
    return all(fact_in_answer(f, answer) for f in statement.facts)


def coverage(statements: list[Statement], answers: list[str]) -> Coverage:
    """Coverage of the informative ``statements`` by ``answers`` (answers are indexed by word)."""
    index: dict[str, list[int]] = {}
    answer_words = [set(content_words(a)) for a in answers]
    for i, words in enumerate(answer_words):
        for word in words:
            index.setdefault(word, []).append(i)
    facts = informative_statements(statements)
    uncovered = []
    for statement in facts:
        words = content_words(statement.text)
        rarest = min(words, key=lambda w: len(index.get(w, [])), default=None)
        candidates = index.get(rarest, []) if rarest else range(len(answers))
        if not any(covers(answers[i], statement) for i in candidates):
            uncovered.append(statement)
    return Coverage(informative=len(facts), covered=len(facts) - len(uncovered), uncovered=uncovered)


def prose_words(text: str) -> list[str]:
    """Lower-case words of the running text (table rows and capitalised names left out)."""
    prose = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|"))
    return [w for w in _WORD.findall(prose) if not w[:1].isupper()]


def language_problem(text: str, fallback: str | None = None) -> str | None:
    """A reason to skip ``text`` when it is not English; ``fallback`` (the verdict on the whole
    document) decides when the text is too short to tell."""
    words = prose_words(text)
    if len(words) < MIN_LANGUAGE_WORDS:
        return fallback
    latin = sum(all(ord(c) < 0x250 for c in w) for w in words) / len(words)
    function = sum(w in FUNCTION_WORDS for w in words) / len(words)
    dictionary = sum(bool(lemmas(w)) for w in words if len(w) > 2) / max(1, sum(len(w) > 2 for w in words))
    if latin < 0.5:
        return "not English: the text is not in the Latin alphabet, and questions are written in English"
    if function < MIN_FUNCTION_SHARE and dictionary < MIN_DICTIONARY_SHARE:
        return (f"not English: {function:.0%} English function words and {dictionary:.0%} English dictionary "
                "words; questions are written in English")
    return None
