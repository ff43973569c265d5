"""Where a chunk sits in its document, so that every question names what it is about.

    topics = document_topics(chunks)               # {source_id: Topic}, from titles and first lines
    topic = topics[chunk.source_id].at(chunk.heading_path)
    anchored("What is the maximum load in the box?", topic)
    # -> 'What is the maximum load in the box when booking a Barrow Cargo Bike?'

A question is self-contained when it names something specific: a capitalised name or code, or
a word of the document's title. Otherwise the most specific usable heading is added ("when
booking ...", "to report sickness", "for the Cargo Induction"), or else the organisation the
documents are about ("at Brindlewick Cycle Commons", the name the documents mention most).
"""

import re
import string
from dataclasses import dataclass, field, replace

from ..facts import clean_heading, key_facts
from ..records import Chunk
from ..facts.statements import is_title_like
from ..facts.words import FUNCTION_WORDS, is_base_verb, lemmas, lower_first
from .clauses import user_voice

DOCUMENT_NOUNS = frozenset({"guide", "handbook", "policy", "terms", "manual", "procedures", "procedure", "minutes",
                            "code", "rules", "agreement", "charter", "faq", "leaflet", "notice", "contract",
                            "conditions", "regulations", "booklet", "instructions", "standards", "protocol"})
_SEPARATORS = re.compile(r"\s*(?::|\s[-–—]\s)\s*")
_QUESTION_START = ("who ", "what ", "when ", "where ", "why ", "how ", "which ", "can ", "do ", "does ", "is ",
                   "are ")


@dataclass
class Topic:
    """A document's title, the organisation it names, and the chunk's heading path."""

    title: str = ""
    org: str = ""
    path: tuple[str, ...] = field(default_factory=tuple)

    def at(self, heading_path: list[str] | tuple) -> "Topic":
        return replace(self, path=tuple(clean_heading(h) for h in heading_path))

    @property
    def document(self) -> str:
        """The document's own name without the organisation ('Membership Guide')."""
        parts = [p for p in _SEPARATORS.split(self.title) if p]
        rest = [p for p in parts if p != self.org]
        return rest[0] if rest else self.title

    def anchor_words(self) -> set[str]:
        words = re.findall(r"[A-Za-z][\w’'-]+", f"{self.title} {self.org} {self.path[0] if self.path else ''}")
        return {stem(w) for w in words if len(w) > 3 and w.lower() not in FUNCTION_WORDS}


def stem(word: str) -> str:
    word = word.lower().strip("’'")
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def document_topics(chunks: list[Chunk]) -> dict[str, Topic]:
    """A Topic per source: its title (first heading, or first line) and the organisation.

    A title's leading name ('Brindlewick Cycle Commons: Staff Handbook') is the organisation only
    when the documents name it again: 'Getting Repairs Done: a guide for tenants' names the guide
    itself, once. A source without such a name gets the name that most documents mention; one whose
    title has a name of its own, only a name its own text mentions (never another organisation's)."""
    firsts: dict[str, Chunk] = {}
    texts: dict[str, list[str]] = {}
    for chunk in chunks:
        firsts.setdefault(chunk.source_id, chunk)
        texts.setdefault(chunk.source_id, []).append(chunk.text)
    topics = {source: Topic(title=title_of(chunk)) for source, chunk in firsts.items()}
    named = {source: organisation(topic.title) or organisation(first_line(firsts[source]))
             for source, topic in topics.items()}
    mentions = ["\n".join([topics[source].title, *texts[source]]) for source in topics]
    counts = {name: (sum(name in text for text in mentions), sum(text.count(name) for text in mentions))
              for name in set(named.values()) if name}  # (documents, times) naming it
    shared = sorted((name for name, (_, times) in counts.items() if times > 1), key=lambda name: (counts[name], name),
                    reverse=True)
    for (source, topic), text in zip(topics.items(), mentions):
        # a title with a name of its own ('Fernhill Public Library: ...') borrows only a name its text says
        borrowed = [name for name in shared if name in text] or ([] if named[source] else shared[:1])
        topic.org = named[source] if named[source] in shared else (borrowed[0] if borrowed else "")
    return topics


def first_line(chunk: Chunk) -> str:
    return next((line.strip() for line in chunk.text.splitlines() if line.strip()), "")


def title_of(chunk: Chunk) -> str:
    """The heading the document starts with, or its first line; ALL CAPS becomes Title Case."""
    if chunk.heading_path:
        raw = chunk.heading_path[0]
    else:
        raw = first_line(chunk)
        raw = raw if is_title_like(raw) else ""
    letters = [c for c in raw if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return string.capwords(clean_heading(raw).lower())
    return clean_heading(raw)


def organisation(title: str) -> str:
    """The name a title starts with ('Brindlewick Cycle Commons: Staff Handbook' -> the first part);
    not a document's own name ('Fleet Maintenance Procedures')."""
    first = _SEPARATORS.split(title)[0].strip(" ,") if title else ""
    name = next((f.text for f in key_facts(first) if f.kind == "name" and f.start == 0), "")
    words = {w.lower().strip(",") for w in name.split()}
    return name if len(name.split()) >= 2 and not words & DOCUMENT_NOUNS else ""


def has_anchor(question: str, topic: Topic, strict: bool = False) -> bool:
    """Names something specific: a capitalised word after the first, a code or figure, or a title
    word (``strict``: only a word of the title or the top heading counts)."""
    words = re.findall(r"[\w’'-]+", question)
    if not strict and (any(w[:1].isupper() and w != "I" for w in words[1:]) or re.search(r"\d", question)):
        return True
    anchors = topic.anchor_words()
    return any(stem(w) in anchors for w in words[1:])


def names_a_document(title: str) -> bool:
    return bool(_SEPARATORS.search(title)) or bool(DOCUMENT_NOUNS & {w.lower().strip(",") for w in title.split()})


def context_phrase(topic: Topic) -> str:
    """' when booking a Barrow Cargo Bike', ' to report sickness', ' for the Cargo Induction', ' at <org>'."""
    for heading in reversed(topic.path):
        if heading == topic.title and names_a_document(heading):
            break  # 'Acme: Staff Handbook' names the document, not what the question is about
        phrase = heading_phrase(heading)
        if phrase:
            return phrase
    if topic.org:
        return f" at {topic.org}"
    return f" ({topic.path[-1]})" if topic.path else ""


def heading_phrase(heading: str) -> str:
    words = heading.split()
    if not words or heading.endswith("?"):
        return ""
    lower = heading.lower()
    if lower.startswith("how to ") and len(words) > 2:
        return " to " + user_voice(heading[7:])
    if lower.startswith(_QUESTION_START):
        return ""
    if lower.startswith("welcome to ") and len(words) > 2:
        return f" at {heading[11:]}"  # 'Welcome to Hollybank Veterinary Centre': a greeting names the place
    modifier = len(words) == 2 and words[1].islower() and words[1].endswith("s")  # 'Opening hours', 'Parking fees'
    if words[0].lower().endswith("ing") and "VERB" in lemmas(words[0].lower()) and not modifier:
        return " when " + user_voice(lower_first(heading))
    if is_base_verb(words[0]) and len(words) > 1 and not words[0].lower() in lemmas(words[0]).get("NOUN", ()):
        return " to " + user_voice(lower_first(heading))
    named = [w for w in words[1:] if w[:1].isupper()] or (words if len(words) == 1 and not lemmas(words[0]) else [])
    if named:
        body = lower_first(heading)
        return f" for {body}" if body.split()[0].lower() in FUNCTION_WORDS else f" for the {body}"
    return ""


def anchored(question: str, topic: Topic, strict: bool = False) -> str:
    """``question`` with the context it needs to be understood on its own."""
    if has_anchor(question, topic, strict):
        return question
    phrase = context_phrase(topic)
    asked = {stem(w)[:5] for w in re.findall(r"[\w’'-]+", question)}
    named = {stem(w)[:5] for w in re.findall(r"[\w’'-]+", phrase) if len(w) > 3 and w.lower() not in FUNCTION_WORDS}
    return f"{question[:-1]}{phrase}?" if phrase and not named <= asked else question
