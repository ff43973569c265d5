"""The offline, deterministic ``rules`` generator: pairs from the structure of the text.

    candidates = generate_rules(chunk, PairsConfig())

It reads, in this order: FAQ blocks already in the document (``Q:`` / ``A:``) and question
headings ("How do I book a Barrow?"); definitions ("A **Member** is a person who ...",
"“Ride” means ..."); acronyms ("Brindlewick Cycle Commons (BCC)"); counts ("There are 50
Barrows in the fleet" -> "How many Barrows are there in the fleet?"); numbered procedures
under a heading ("How do I renew my membership?"); table rows ("How much is the Day Pass?").
A chunk that yields none of these gets one question about its section heading. Questions are
phrased the way a user would ask; answers are the document's own sentences, so they are
grounded by construction. Fast and predictable, it is the demo default.
"""

import re

from ..config import PairsConfig
from ..records import Chunk
from .base import Candidate, per_chunk

_FAQ = re.compile(r"^\s*(?:\*\*)?Q(?:uestion)?[:.](?:\*\*)?\s*(.+?)\s*\n\s*(?:\*\*)?A(?:nswer)?[:.](?:\*\*)?\s*(.+?)"
                  r"(?=\n\s*\n|\n\s*(?:\*\*)?Q(?:uestion)?[:.]|\Z)", re.MULTILINE | re.DOTALL | re.IGNORECASE)
_TERM = r"(?:\*\*|__|[\"“'‘])?([A-Z][\w’'\-]*(?: [\w’'\-]+){0,4}?)(?:\*\*|__|[\"”'’])?"
_DEFINITION = re.compile(rf"^(?:(A|An|The)\s+)?{_TERM}\s+(is|are|means|refers to)\s+(.{{8,400}}[.!])$")
_ACRONYM = re.compile(r"\b((?:[A-Z][\w’'\-]+ )+?(?:(?:of|and|for|the) )?(?:[A-Z][\w’'\-]+ ?)+)\(([A-Z]{2,6})\b")
_COUNT = re.compile(r"^There (are|were|is) ([\d,.]+|two|three|four|five|six|seven|eight|nine|ten|twelve) "
                    r"([\w’'\- ]{2,40}?)((?: (?:in|on|at|across|per|for|during|over) [\w’'\- ]{2,40}?)?)(?:[,;:.]| who| that| which)")
_NOUN_PHRASE = re.compile(r"^(?:a|an|the|one|two|three|four|five|six|seven|eight|nine|ten|\d[\d.,]*\s|[A-Z])")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+\S")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"(])")
_NOT_SUBJECTS = {"there", "it", "this", "that", "these", "those", "they", "he", "she", "we", "you", "i", "here",
                 "what", "which", "who", "each", "every", "all", "some", "no", "one", "its", "his", "her",
                 "our", "your", "their", "such", "if", "when", "where", "why", "how", "yes", "anyone", "after", "before",
                 "in", "on", "at", "for", "from", "during", "until", "since", "under", "over", "with", "by"}
_QUESTION_WORDS = ("who", "what", "when", "where", "why", "how", "which", "can", "do", "does", "is", "are",
                   "may", "should", "will")
_IMPERATIVES = {"book", "report", "return", "renew", "cancel", "join", "pay", "change", "open", "close", "apply",
                "register", "reset", "contact", "use", "unlock", "lock", "end", "start", "get", "make", "find",
                "request", "claim", "transfer", "update", "check", "replace", "fix", "clean", "sign", "leave",
                "take", "become", "buy", "hire", "collect", "park", "dock", "set", "install", "create", "add"}
_INDIRECT = re.compile(r"^(?i:(when|where|what|how|why)) (?!(?i:can|may|must|should|will|are|is|do|does|to)\b)"
                       r"([\w“”\"’'\- ]+?) (can|may|must|should|will|are|is|do|does)\b ?(.*)$")
_PRICE_COLUMNS = ("price", "fee", "cost", "charge", "amount", "rate")


@per_chunk("rules")
def generate_rules(chunk: Chunk, pairs_cfg: PairsConfig) -> list[Candidate]:
    """All rule-based candidates for one chunk, best kinds first, one per distinct question."""
    text = chunk.text
    topic = clean_heading(chunk.heading_path[-1]) if chunk.heading_path else ""
    candidates = (faq_pairs(text) + procedure_pairs(text, topic) + question_heading_pairs(text, topic)
                  + definition_pairs(text) + acronym_pairs(text) + count_pairs(text) + table_pairs(text))
    if not candidates and topic:
        candidates = section_pairs(text, topic)
    unique = {c.question.lower(): c for c in reversed(candidates)}
    return list(reversed(unique.values()))


def faq_pairs(text: str) -> list[Candidate]:
    """Question/answer blocks already written by the document's authors."""
    return [Candidate(question=plain(m.group(1)), answer=plain(m.group(2)), evidence=m.group(2).strip())
            for m in _FAQ.finditer(text)]


def question_heading_pairs(text: str, topic: str) -> list[Candidate]:
    """A heading that is a question ("Who can volunteer") is answered by its section."""
    if not topic or not is_question_heading(topic):
        return []
    sentences = statements(text)[:3]
    if not sentences:
        return []
    question = how_question(topic)
    return [Candidate(question=question, answer=plain(" ".join(sentences)), evidence=sentences[0])]


def definition_pairs(text: str) -> list[Candidate]:
    """'A Member is a person who ...' -> 'What is a member?'; '“Ride” means ...' -> 'What does “ride” mean?'."""
    out = []
    for sentence in statements(text):
        match = _DEFINITION.match(sentence)
        if not match or match.group(2).split()[0].lower() in _NOT_SUBJECTS or len(match.group(2)) < 3:
            continue
        article, term, verb = match.group(1), plain(match.group(2)), match.group(3)
        if verb in {"is", "are"} and not _NOUN_PHRASE.match(match.group(4)) or " the " in f" {term.lower()} ":
            continue
        out.append(Candidate(question=definition_question(article, term, verb), answer=plain(sentence),
                             evidence=sentence))
    return out


def definition_question(article: str | None, term: str, verb: str) -> str:
    """The question a user would ask about a defined term."""
    if verb in {"means", "refers to"}:  # a defined term: keep it as written
        return f"What does “{term}” {'mean' if verb == 'means' else 'refer to'}?"
    term = term if looks_like_name(term) or article and term[:1].isupper() else lower_first(term)
    noun = f"{article.lower()} {term}" if article else term
    return f"What {verb} {noun}?"


def acronym_pairs(text: str) -> list[Candidate]:
    """'Brindlewick Cycle Commons (BCC ...' -> 'What does BCC stand for?'."""
    out = []
    for sentence in statements(text):
        for match in _ACRONYM.finditer(plain(sentence)):
            full, short = match.group(1).strip(), match.group(2)
            initials = "".join(w[0] for w in full.split() if w[0].isupper())
            if initials == short:
                out.append(Candidate(question=f"What does {short} stand for?", answer=f"{short} stands for {full}.",
                                     evidence=full))
    return out


def count_pairs(text: str) -> list[Candidate]:
    """'There are 50 Barrows in the fleet, ...' -> 'How many Barrows are there in the fleet?'."""
    out = []
    for sentence in statements(text):
        match = _COUNT.match(plain(sentence))
        if match and not match.group(3).split()[0].lower() in {"more", "less", "fewer", "about"}:
            verb = "were" if match.group(1) == "were" else "are"
            where = match.group(4).rstrip()
            out.append(Candidate(question=f"How many {match.group(3).strip()} {verb} there{where}?",
                                 answer=plain(sentence), evidence=sentence))
    return out


def procedure_pairs(text: str, topic: str) -> list[Candidate]:
    """A numbered list under a heading becomes 'How do I <heading>?' answered by the steps."""
    steps = [line.strip() for line in text.splitlines() if _NUMBERED.match(line)]
    if len(steps) < 2 or not topic:
        return []
    if is_procedure_heading(topic) or is_question_heading(topic):
        question = how_question(topic)
    elif topic.lower().endswith("s") and not topic.lower().endswith("ss"):
        question = f"What are the {subject(re.sub(r'^(?i:the) ', '', topic))}?"
    else:
        question = f"What are the steps for {subject(topic)}?"
    return [Candidate(question=question, answer=plain("\n".join(steps)), evidence=steps[0])]


def is_question_heading(topic: str) -> bool:
    """'Who can book', 'How to pay', 'Can I ...?' are questions; 'Cancelling ...' is not."""
    words = topic.lower().split()
    return topic.endswith("?") or bool(words) and (words[0] in _QUESTION_WORDS[:6] or " ".join(words[:2]) in
                                                  {"how to", "how do", "how can", "how much", "how many", "how long",
                                                   "how we", "can i", "do i", "is there", "are there"})


def is_procedure_heading(topic: str) -> bool:
    first = topic.lower().split()[0] if topic.split() else ""
    return (topic.lower().startswith("how") or first in _IMPERATIVES or first.endswith("ing")
            or bool(re.search(r"\b(?:procedure|steps|process|checklist)\b", topic.lower())))


def how_question(topic: str) -> str:
    """'How to renew' / 'Renew your pass' -> 'How do I renew ...?'; 'Booking a bike' -> 'How does booking a bike work?'."""
    topic = my(topic.strip().rstrip("?.:"))
    first, _, rest = lower_first(topic).partition(" ")
    if topic.lower().startswith("how to "):
        return f"How do I {topic[7:]}?"
    if topic.lower().startswith("how we "):
        return f"How do you {topic[7:]}?"
    inverted = _INDIRECT.match(topic)
    if inverted:
        wh, subj, aux, rest = inverted.groups()
        subj = "I" if subj.lower() == "you" else subj
        return " ".join(part for part in (sentence_case(wh.lower()), aux, subj, rest) if part) + "?"
    if is_question_heading(topic):
        return sentence_case(topic) + "?"
    if first.lower() in _IMPERATIVES:
        return f"How do I {first.lower()} {rest}".strip() + "?"
    if first.lower().endswith("ing"):
        return f"How does {lower_first(topic)} work?"
    return f"What are the steps for {subject(topic)}?"


def table_pairs(text: str) -> list[Candidate]:
    """Markdown table rows become lookups: 'How much is the Day Pass?', 'What is the opening time for Depot?'."""
    rows = [split_row(line) for line in text.splitlines() if line.strip().startswith("|")]
    rows = [r for r in rows if r and not all(set(c) <= set("-: ") for c in r)]
    if len(rows) < 2:
        return []
    header, out = [plain(c) for c in rows[0]], []
    for row in rows[1:]:
        key = plain(row[0])
        for column, value in list(zip(header, row))[1:]:
            if key and value.strip() and is_noun_header(column):
                out.append(table_candidate(key, column, plain(value), value))
    return out


def is_noun_header(column: str) -> bool:
    """Column headers that read as a noun ('Price', 'Tyre pressure'), not a clause ('When it applies')."""
    words = column.lower().split()
    return 0 < len(words) <= 3 and words[0] not in _QUESTION_WORDS and words[0] not in _IMPERATIVES | {"ask"}


def table_candidate(key: str, column: str, value: str, evidence: str) -> Candidate:
    col = lower_first(column)
    verb = "are" if col.endswith("s") and not col.endswith("ss") else "is"
    if col.lower().startswith(_PRICE_COLUMNS):
        question = f"How much is the {col} for {key}?" if len(col.split()) > 1 else f"How much is the {key}?"
    else:
        question = f"What {verb} the {col} for {key}?"
    return Candidate(question=question, answer=f"The {col} for {key} {verb} {value}.", evidence=evidence)


def section_pairs(text: str, topic: str) -> list[Candidate]:
    """Fallback: 'What should I know about <heading>?' answered by the section's first sentences."""
    sentences = statements(text)[:2]
    if not sentences:
        return []
    return [Candidate(question=f"What should I know about {subject(topic)}?", answer=plain(" ".join(sentences)),
                      evidence=sentences[0])]


def statements(text: str) -> list[str]:
    """Sentences of prose and list items (headings and table rows are not statements)."""
    out: list[str] = []
    paragraph: list[str] = []
    for line in text.splitlines() + [""]:
        stripped = line.strip()
        if _BULLET.match(line) or not stripped or stripped.startswith(("|", "#")):
            out.extend(_sentences(" ".join(paragraph)))
            paragraph = []
            if _BULLET.match(line):
                out.extend(_sentences(_BULLET.sub("", line)))
        else:
            paragraph.append(stripped)
    return out


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 15]


def clean_heading(heading: str) -> str:
    """'3. THE INDUCTION' -> 'The induction'; '1.1 Who is who' -> 'Who is who'."""
    heading = plain(re.sub(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.)\s+", "", heading)).strip()
    letters = [c for c in heading if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        heading = heading[:1] + heading[1:].lower()
    return heading


def plain(text: str) -> str:
    """Markdown emphasis and code marks removed, whitespace collapsed."""
    return " ".join(re.sub(r"(\*\*|__|`)", "", text).replace("*", "").split())


def split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def looks_like_name(text: str) -> bool:
    """A proper name or acronym ('Fix-It Thursdays', 'BCC', 'Wickride'), kept capitalised."""
    words = text.split()
    long_words = [w for w in words if len(w) > 2 and not w[:1].isdigit()]
    return bool(words) and (words[0].isupper() and len(words[0]) > 1
                            or len(long_words) > 1 and all(w[:1].isupper() for w in long_words))


def subject(topic: str) -> str:
    """A heading used inside a question: names keep their capitals, 'your' becomes 'my'."""
    return my(topic if looks_like_name(topic) else lower_first(topic))


def my(text: str) -> str:
    """The user's voice: 'your member share' -> 'my member share'."""
    return re.sub(r"\byour\b", "my", re.sub(r"\bYour\b", "My", text))


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym or has inner capitals."""
    first = text.split()[0] if text.split() else ""
    if len(first) > 1 and (first.isupper() or first[1:] != first[1:].lower()):
        return text
    return text[:1].lower() + text[1:]


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]
