"""What the model is asked: a conversation grounded in the project's documents, and the sources it used.

Every surface that answers (the wizard's chat, ``dab chat``, ``dab serve``, the share demo) calls
``grounded_prompt`` (through ``engine_prompt``: the engine's control tokens and ranker), and
open-book evaluation finds its passages the same way (``find_passages``)::

    prompt = engine_prompt(engine, project, messages, chat_cfg)
    answer = "".join(engine.stream(prompt.messages, chat_cfg))
    prompt.status      # GROUNDED, NO_MATCH, NO_DOCUMENTS or OFF
    prompt.note        # what to tell the user ("No documents: answering without them."), or None
    prompt.sources()           # [{document, heading, snippet, chunk_id, score}], snippets for the question
    prompt.unsupported(answer)  # ["£3.85"]: figures, dates, codes and names of the answer no source states
    prompt.figure_lines(answer)  # [{fact, document, line}]: the answer's figures with the lines that state them
    claim_beside_decline(answer)  # "Two weeks.": an answer that also says the documents do not cover it
    prompt.for_conversation(other_messages)       # another conversation over the same passages

Rules:

- ``chat_cfg.grounded`` off: the conversation is sent as it is (OFF).
- A project without chunks (or no project): the conversation is sent as it is, and the note says
  the answer is given without documents (NO_DOCUMENTS).
- Otherwise the last user message asks its question over the ``chat_cfg.passages_k`` passages
  that ``retrieve.search_messages`` finds, in the one prompt format of ``retrieve.ground_messages``
  (the format retrieval-aware training uses). With a ranker (``rerank.passage_ranker``: the
  model itself, when ``chat_cfg.rerank`` asks for it on this device), search finds
  ``rerank.CANDIDATES`` passages and the ranker's best ``passages_k`` are kept. When no passage
  matches, the prompt says so and asks the model to answer ``ABSTAIN_ANSWER`` (NO_MATCH).
- A question longer than ``MAX_QUESTION_CHARS`` is searched and quoted by its end only (its
  last 2,000 characters, cut at a word boundary), so the passages always fit in front of it.
"""

import dataclasses
import re
from typing import Sequence

from .config import ChatConfig
from .facts import KeyFact, fact_in_answer, key_facts
from .project import Project
from .rerank import CANDIDATES, Ranker, passage_ranker
from .retrieve import (ABSTAIN_ANSWER, MAX_QUESTION_CHARS, NO_PASSAGES, Passage, excerpt, ground_messages, project_index,
                       search_messages, terms, text_end, text_units, user_questions)

GROUNDED, NO_MATCH, NO_DOCUMENTS, OFF = "grounded", "no_match", "no_documents", "off"
NOTES = {NO_MATCH: NO_PASSAGES, NO_DOCUMENTS: "No documents: answering without them.",
         OFF: "From memory: the documents were not looked up.", GROUNDED: None}
SNIPPET_CHARS = 160
FIGURE_KINDS = {"money", "percent", "duration", "measure", "time", "date", "phone", "code", "count", "frequency"}
ABSTAIN_PHRASES = (ABSTAIN_ANSWER.lower().rstrip("."), "do not cover", "don't cover", "does not cover",
                   "not covered", "no information", "not mentioned", "do not say", "don't say", "do not mention")
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_RULE_LINE = re.compile(r"^\s*\|?\s*(?::?-{3,}:?\s*\|?\s*)+$|^\s*([-*_])(?:\s*\1){2,}\s*$")  # |---|---| rows, ---
_EMPHASIS = re.compile(r"(\*\*|\*)(?=\S)(.+?)(?<=\S)\1")


@dataclasses.dataclass(frozen=True)
class GroundedPrompt:
    """The messages to send, the passages quoted in them (best first), how they were made, and
    the question they were found for."""

    messages: list[dict]
    passages: tuple[Passage, ...]
    status: str
    special_tokens: tuple[str, ...] = ()
    question: str = ""

    def sources(self) -> list[dict]:
        """The passages as sources to show or send, each snippet cut around the question's words."""
        return [source_record(passage, self.question) for passage in self.passages]

    def unsupported(self, answer: str) -> list[str]:
        """The key facts of ``answer`` that neither its sources nor the question state (empty
        when the answer had no sources to check against): see ``unsupported_facts``."""
        if self.status != GROUNDED:
            return []
        return unsupported_facts(answer, [p.text for p in self.passages] + [self.question])

    def figure_lines(self, answer: str) -> list[dict]:
        """The figures of ``answer`` with the lines of its sources that state them (empty when the
        answer had no sources): see ``figure_lines``."""
        if self.status != GROUNDED:
            return []
        return figure_lines(answer, self.question, self.passages)

    @property
    def note(self) -> str | None:
        """A line for the user when the answer is not grounded in passages, else None."""
        return NOTES[self.status]

    def for_conversation(self, messages: Sequence[dict]) -> list[dict]:
        """``messages`` asked over the same passages (e.g. the base model's side of a comparison)."""
        if self.status in (OFF, NO_DOCUMENTS):
            return [dict(m) for m in messages]
        return quote_passages(messages, self.passages, self.special_tokens)


def grounded_prompt(project: Project | None, messages: Sequence[dict], chat_cfg: ChatConfig,
                    special_tokens: Sequence[str] = (), ranker: Ranker | None = None) -> GroundedPrompt:
    """The conversation to send for ``messages`` (plain ``{role, content}`` dicts) under ``chat_cfg``;
    ``ranker`` re-orders the passages search finds (``find_passages``)."""
    special_tokens = tuple(special_tokens)
    if not chat_cfg.grounded:
        return GroundedPrompt([dict(m) for m in messages], (), OFF, special_tokens)
    if project is None or not project_index(project).passages:
        return GroundedPrompt([dict(m) for m in messages], (), NO_DOCUMENTS, special_tokens)
    passages = tuple(find_passages(project, messages, chat_cfg.passages_k, ranker))
    return GroundedPrompt(quote_passages(messages, passages, special_tokens), passages,
                          GROUNDED if passages else NO_MATCH, special_tokens, last_question(messages))


def engine_prompt(engine, project: Project | None, messages: Sequence[dict], chat_cfg: ChatConfig) -> GroundedPrompt:
    """``grounded_prompt`` as ``engine`` (a ``chat.ChatEngine``) asks it: its tokenizer's control
    tokens made inert in passages, and its model re-ranking them when ``chat_cfg`` says so."""
    return grounded_prompt(project, messages, chat_cfg, engine.tokenizer.all_special_tokens,
                           passage_ranker(engine, chat_cfg))


def find_passages(project: Project, messages: Sequence[dict], k: int, ranker: Ranker | None = None) -> list[Passage]:
    """The ``k`` passages for a conversation: search's best, or with ``ranker`` its best among
    search's ``CANDIDATES`` for the last question (cut as the prompt quotes it)."""
    if ranker is None:
        return search_messages(project, messages, k)
    candidates = search_messages(project, messages, max(k, CANDIDATES))
    return ranker(last_question(messages), candidates)[:k] if candidates else []


def last_question(messages: Sequence[dict]) -> str:
    """The last user question as it is searched and quoted: its last ``MAX_QUESTION_CHARS``; "" when none."""
    questions = user_questions(messages)
    return text_end(questions[-1], MAX_QUESTION_CHARS) if questions else ""


def quote_passages(messages: Sequence[dict], passages: Sequence[Passage], special_tokens: Sequence[str]) -> list[dict]:
    """``ground_messages`` on a copy whose last user question is cut to its last ``MAX_QUESTION_CHARS``."""
    messages = [dict(m) for m in messages]
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            message["content"] = text_end(message["content"], MAX_QUESTION_CHARS)
            break
    return ground_messages(messages, passages, special_tokens)


def unsupported_facts(answer: str, sources: Sequence[str]) -> list[str]:
    """Key facts of ``answer`` (``facts.key_facts``: amounts, dates, times, codes, names, ...)
    that no text of ``sources`` states, each once, in the answer's order: what a small model may
    have invented, for the reader to check (a figure copied from the wrong line of a source is
    in the sources, so it is not caught). Numbers written as words ("two weeks") are left out: a
    paraphrase of the sources says them often."""
    found: list[str] = []
    for fact in key_facts(answer):
        if checkable(fact) and fact.text not in found and not any(fact_in_answer(fact, text) for text in sources):
            found.append(fact.text)
    return found


def figure_lines(answer: str, question: str, passages: Sequence[Passage]) -> list[dict]:
    """Each figure of ``answer`` (amounts, dates, times, durations, codes, phone numbers) that the
    passages state, with the line stating it, as ``{fact, document, line}``: of several such
    lines, the one sharing most of the question's words, shown from its start (what the line is
    about) or, when the figure comes later, cut around it. A small model reading a list or a table
    often copies the figure of a neighbouring line ("£3.85", the cleaning charge, asked for the
    lift charge): the line shows the reader what the figure is. Figures the question gives are
    left out, and so are those no line states (``unsupported_facts`` names them)."""
    wanted = set(terms(question))
    lines = [(passage, unit) for passage in passages for unit, _ in text_units(passage.text)]
    found: list[dict] = []
    for fact in key_facts(answer):
        if (fact.kind not in FIGURE_KINDS or not any(ch.isdigit() for ch in fact.text)
                or fact_in_answer(fact, question) or any(f["fact"] == fact.text for f in found)):
            continue
        stating = [(passage, unit) for passage, unit in lines if fact_in_answer(fact, unit)]
        if stating:
            passage, unit = max(stating, key=lambda row: len(wanted & set(terms(row[1]))))
            start = snippet(unit)
            line = start if fact_in_answer(fact, start) else snippet(unit, question=fact.text)
            found.append({"fact": fact.text, "document": passage.document, "line": line})
    return found


def abstained(text: str) -> bool:
    """Whether an answer says the documents do not answer the question."""
    lowered = " ".join(text.lower().replace("’", "'").split())
    return any(phrase in lowered for phrase in ABSTAIN_PHRASES)


def claim_beside_decline(answer: str) -> str:
    """What ``answer`` states besides saying that the documents do not cover the question: "Two
    weeks." of "Two weeks. The documents do not cover this."; "" when it only declines, or does not
    decline. A small model that does not find the answer in the passages often starts one and then
    declines (on the handbook corpus, 10 of the tuned 135M model's 25 wrong answers): the reader
    should take such an answer as not found, and read the sources."""
    if not abstained(answer):
        return ""
    return " ".join(s for s in _SENTENCE_END.split(answer.strip()) if s and not abstained(s))


def checkable(fact: KeyFact) -> bool:
    """Whether an answer's fact can be checked against the sources: it has a digit, or it is a name,
    a code or an address (a number in words matches too loosely)."""
    return any(ch.isdigit() for ch in fact.text) or fact.kind in {"name", "code", "email", "url"}


def heading(passage: Passage) -> str:
    """The passage's heading path as one line ("Fees > Day passes"), "" when it has none."""
    return " > ".join(passage.heading_path)


def snippet(text: str, max_chars: int = SNIPPET_CHARS, question: str = "") -> str:
    """``text`` as one readable line of at most ``max_chars`` (cut at word boundaries, "…" where
    text is left out): its start, or with ``question`` the stretch of its most relevant sentences
    (``retrieve.excerpt``) that holds most of the question's words, with more room after them
    than before, where the figure asked about usually follows ("lift … Saltings Court: £2.65")."""
    line = _SPACES.sub(" ", readable(excerpt(text, question) if question else text)).strip()
    if len(line) <= max_chars:
        return line
    words = line.split(" ")
    first = focus_start(words, set(terms(question)), max_chars) if question else 0
    kept: list[str] = []
    for word in words[first:]:
        if len(" ".join(kept + [word])) > max_chars - 3:
            break
        kept.append(word)
    kept = kept or [words[first][:max_chars - 3]]
    shown = " ".join(kept)
    if first + len(kept) < len(words):
        shown = shown.rstrip(" ,;:.") + "…"
    return ("… " if first else "") + shown


def focus_start(words: list[str], wanted: set[str], max_chars: int) -> int:
    """The first word of a ``max_chars`` window over ``words`` around the tightest stretch that
    holds the most distinct ``wanted`` terms: a quarter of the room left goes before it, the rest
    after."""
    starts = [0]
    for word in words:
        starts.append(starts[-1] + len(word) + 1)
    width = lambda i, j: starts[j + 1] - starts[i] - 1  # noqa: E731  characters of words[i..j] joined
    hit_terms = [wanted & set(terms(word)) for word in words]
    hits = [i for i, found in enumerate(hit_terms) if found]
    if not hits:
        return 0
    best, last, best_key = hits[0], hits[0], (0, 0)
    for i in hits:
        found: set[str] = set()
        for j in (j for j in hits if j >= i and width(i, j) <= max_chars):
            found |= hit_terms[j]
            key = (len(found), -width(i, j))  # most terms, then the tightest stretch
            if key > best_key:
                best, last, best_key = i, j, key
    before = (max_chars - width(best, last)) // 4
    start = best
    while start > 0 and width(start - 1, best - 1) <= before:
        start -= 1
    return start


def readable(text: str) -> str:
    """Markdown made plain for a one-line snippet: table rows as "cell · cell;", no separator rows
    or rules, no ``*`` emphasis."""
    lines = []
    for line in text.splitlines():
        if _RULE_LINE.match(line):
            continue
        if "|" in line:  # a table row: its cells, and a ";" before the next row
            line = " · ".join(cell.strip() for cell in line.strip().strip("|").split("|")) + ";"
        lines.append(_EMPHASIS.sub(r"\2", line))
    return "\n".join(lines)


def source_record(passage: Passage, question: str = "") -> dict:
    """A passage as a source to show or send: document, heading, snippet (for ``question``), chunk
    id and score."""
    return {"document": passage.document, "heading": heading(passage),
            "snippet": snippet(passage.text, question=question), "chunk_id": passage.chunk_id, "score": passage.score}


def source_line(number: int, passage: Passage, question: str = "") -> str:
    """``[1] guide.md > Fees > Day passes: "A day pass costs…"`` (for a terminal)."""
    where = " > ".join([passage.document, *passage.heading_path])
    return f'[{number}] {where}: "{snippet(passage.text, question=question)}"'
