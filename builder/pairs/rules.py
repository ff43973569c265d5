"""The offline, deterministic ``rules`` generator: questions about every informative statement.

    results = GENERATORS["rules"](chunks, PairsConfig())   # one ChunkResult per chunk
    candidates = generate_rules(chunk, PairsConfig())      # one chunk on its own

Each chunk is split into statements (``builder.facts``: sentences, list items with their
lead-in, table rows with their header, steps); each informative one gets several questions
(``questions.statement_questions``: who / what / when / how much / how many / how long / which
form / what happens if / can I, made self-contained with the document's title and headings),
grouped by fact: every candidate's ``fact`` is the statement it asks about. Questions the
authors wrote or the structure gives are kept and asked first: FAQ blocks (``Q:`` / ``A:``),
question headings ("Who can book"), definitions ("A **Member** is ...", "“Ride” means ..."),
acronyms ("Brindlewick Cycle Commons (BCC)"), counts ("There are 50 Barrows in the fleet"),
numbered procedures under a heading ("How do I renew my membership?"). Table rows are
statements like any other, so none is dropped. Answers are the document's own sentences, the
asked fact first, so they are grounded by construction.

A chunk yields no candidates, with the reason in ``ChunkResult.skipped``, when it is not in
English (the questions are English) or has no informative statement (only headings, or
remarks with no figure, name, rule, definition or list).
"""

import re

from ..config import PairsConfig
from ..records import Chunk, words_key
from ..facts import (ChunkStatements, Statement, covers, informative_statements, is_listed_thing, plain, read_chunks,
                     split_statements)
from ..facts.words import (FUNCTION_WORDS, expand_contractions, is_base_verb, is_noun, is_plural_noun,
                           lower_first)
from .base import Candidate, ChunkResult, ProgressCallback, register
from .asking import trailing_relative
from .clauses import condition_phrase, parse_clause, plural, user_voice
from .questions import MAX_QUESTIONS, PRONOUN_SUBJECTS, only_date, statement_questions
from .shapes import label_value
from .topics import Topic, document_topics

_FAQ = re.compile(r"^\s*(?:\*\*)?Q(?:uestion)?[:.](?:\*\*)?\s*(.+?)\s*\n\s*(?:\*\*)?A(?:nswer)?[:.](?:\*\*)?\s*(.+?)"
                  r"(?=\n\s*\n|\n\s*(?:\*\*)?Q(?:uestion)?[:.]|\Z)", re.MULTILINE | re.DOTALL | re.IGNORECASE)
_TERM = r"(?:\*\*|__|[\"“'‘])?([A-Z][\w’'\-]*(?: [\w’'\-]+){0,4}?)(?:\*\*|__|[\"”'’])?"
_DEFINITION = re.compile(rf"^(?:(A|An|The)\s+)?{_TERM}\s+(is|are|means|refers to)\s+(.{{8,400}}[.!])$")
_ACRONYM = re.compile(r"\b((?:[A-Z][\w’'\-]+ )+?(?:(?:of|and|for|the) )?(?:[A-Z][\w’'\-]+ ?)+)\(([A-Z]{2,6})\b")
_COUNT = re.compile(r"^There (are|were|is) ([\d,.]+|two|three|four|five|six|seven|eight|nine|ten|twelve) "
                    r"([\w’'\- ]{2,40}?)((?: (?:in|on|at|across|per|for|during|over) [\w’'\- ]{2,40}?)?)(?:[,;:.]| who| that| which)")
_NOUN_PHRASE = re.compile(r"^(?:(?:a|an|the|one|two|three|four|five|six|seven|eight|nine|ten|any(?:one|body|thing)?"
                          r"|every(?:one|body|thing)?|some(?:one|body|thing)?)\s|\d[\d.,]*\s|[A-Z])")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+\S")
_OBJECT = re.compile(r"\s+(?:a|an|the|your)\s+([a-z][\w'-]*(?: [a-z][\w'-]*){0,2}?)"
                     r"(?=\s+(?:in|on|at|to|for|from|with|by|within|online)\b|\s*[.,;]|\s*$)")
_NOT_SUBJECTS = {"there", "it", "this", "that", "these", "those", "they", "he", "she", "we", "you", "i", "here",
                 "what", "which", "who", "each", "every", "all", "some", "no", "one", "its", "his", "her",
                 "our", "your", "their", "such", "if", "when", "where", "why", "how", "yes", "anyone", "after", "before",
                 "in", "on", "at", "for", "from", "during", "until", "since", "under", "over", "with", "by"}
_QUESTION_WORDS = ("who", "what", "when", "where", "why", "how", "which", "can", "do", "does", "is", "are",
                   "may", "should", "will")
_INDIRECT = re.compile(r"^(?i:(when|where|what|how|why)) (?!(?i:can|may|must|should|will|are|is|do|does|to)\b)"
                       r"([\w“”\"’'\- ]+?) (can|may|must|should|will|are|is|do|does)\b ?(.*)$")
NO_STATEMENTS = "no pairs: this passage has only headings, page headers or footers, no sentences to ask about"
NO_FACTS = "no pairs: no statement with a figure, date, name, rule, definition or list to ask about"


@register("rules")
def generate_rules_job(chunks: list[Chunk], pairs_cfg: PairsConfig, progress: ProgressCallback = None) -> list[ChunkResult]:
    """Every chunk's candidates (``facts.read_chunks`` carries a table's header across chunks and
    decides each chunk's language)."""
    topics = document_topics(chunks)
    results = []
    for done, item in enumerate(read_chunks(chunks), start=1):
        results.append(chunk_result(item, pairs_cfg, topics[item.chunk.source_id]))
        if progress:
            progress(done, len(chunks))
    return results


def chunk_result(item: ChunkStatements, pairs_cfg: PairsConfig, topic: Topic) -> ChunkResult:
    if item.skipped:
        return ChunkResult(skipped=item.skipped)
    candidates = generate_rules(item.chunk, pairs_cfg, topic, statements=item.statements)
    if candidates:
        return ChunkResult(candidates)
    return ChunkResult(skipped=NO_FACTS if item.statements else NO_STATEMENTS)


def generate_rules(chunk: Chunk, pairs_cfg: PairsConfig | None = None, topic: Topic | None = None,
                   header: list[str] | None = None, statements: list[Statement] | None = None) -> list[Candidate]:
    """All candidates for one chunk, grouped by fact (statement order), each question once."""
    topic = (topic or document_topics([chunk])[chunk.source_id]).at(chunk.heading_path)
    if statements is None:
        statements = split_statements(chunk.text, chunk.heading_path, header)
    facts = informative_statements(statements)
    grouped = group_by_fact(structure_candidates(chunk, statements, topic), facts)
    out, seen, antecedent, earlier_date = [], set(), "", ""
    informative = {id(statement) for statement in facts}
    for statement in statements:  # every statement, so a pronoun finds what it stands for
        kept = 0
        asked = statement_questions(statement, topic, antecedent, earlier_date) if id(statement) in informative else []
        for candidate in grouped.pop(statement.text, []) + asked:
            if words_key(candidate.question) not in seen and kept < MAX_QUESTIONS:
                seen.add(words_key(candidate.question))
                out.append(candidate)
                kept += 1
        # a list item without a subject of its own ('Car parts, tyres and batteries') leaves the list's heading
        antecedent = subject_of(statement) or ("" if statement.kind == "item" else antecedent)
        earlier_date = only_date(statement)
    leftovers = [c for group in grouped.values() for c in group if words_key(c.question) not in seen]
    return out + leftovers


def subject_of(statement: Statement) -> str:
    """The statement's subject, for a pronoun in the next one ('It has a front box' -> 'the Barrow');
    an instruction's object ('Order a replacement in Ledgerly. It arrives ...' -> 'the replacement')."""
    clause = parse_clause(statement.text, instruction=statement.kind == "step") if statement.kind != "row" else None
    if clause is not None and clause.imperative:
        thing = _OBJECT.match(clause.text[clause.lemma_end:])
        return f"the {thing.group(1)}" if thing and not clause.negation else ""
    if clause is None or clause.subject.lower() in PRONOUN_SUBJECTS | {"there", "you", "we"}:
        described = trailing_relative(statement.text)  # '..., which is open 8am to 6pm. It is closed on ...'
        return described[0] if described and statement.kind != "item" else ""
    subject = re.split(r"\s(?:at|in|of|on|for|from|with)\s", clause.subject)[0]
    return lower_first(subject) if len(subject.split()) <= 6 else ""


def structure_candidates(chunk: Chunk, statements: list[Statement], topic: Topic) -> list[Candidate]:
    """Questions the document's structure gives: FAQ blocks, procedures, lists, question headings,
    definitions, acronyms and counts."""
    text, sentences = chunk.text, [s.text for s in statements]
    heading = topic.path[-1] if topic.path else ""
    return (faq_pairs(text) + procedure_pairs(text, heading) + list_pairs(statements)
            + question_heading_pairs(sentences, heading) + definition_pairs(sentences) + acronym_pairs(sentences)
            + count_pairs(sentences))


def group_by_fact(candidates: list[Candidate], facts: list[Statement]) -> dict[str, list[Candidate]]:
    """Each candidate under the first statement its answer states (its own evidence otherwise)."""
    grouped: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        owner = next((s for s in facts if s.text in candidate.answer or candidate.evidence.strip() in s.text
                      or covers(candidate.answer, s)), None)
        candidate.fact = owner.text if owner else plain(candidate.evidence or candidate.answer)
        grouped.setdefault(candidate.fact, []).append(candidate)
    return grouped


def faq_pairs(text: str) -> list[Candidate]:
    """Question/answer blocks already written by the document's authors."""
    return [Candidate(question=plain(m.group(1)), answer=plain(m.group(2)), evidence=m.group(2).strip())
            for m in _FAQ.finditer(text)]


def question_heading_pairs(sentences: list[str], topic: str) -> list[Candidate]:
    """A heading that is a question ("Who can volunteer") is answered by its section."""
    if not topic or not is_question_heading(topic):
        return []
    sentences = sentences[:3]
    if not sentences:
        return []
    question = how_question(topic)
    return [Candidate(question=question, answer=plain(" ".join(sentences)), evidence=sentences[0])]


def definition_pairs(sentences: list[str]) -> list[Candidate]:
    """'A Member is a person who ...' -> 'What is a member?'; '“Ride” means ...' -> 'What does “ride” mean?'."""
    out = []
    for sentence in sentences:
        match = _DEFINITION.match(sentence)
        if not match or match.group(2).split()[0].lower() in _NOT_SUBJECTS or len(match.group(2)) < 3 \
                or re.search(r"\b(?:who|which|that|whose)$", match.group(2), re.IGNORECASE):
            continue  # 'Passengers who are also employees add ...': a relative clause, not a definition
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


def acronym_pairs(sentences: list[str]) -> list[Candidate]:
    """'Brindlewick Cycle Commons (BCC ...' -> 'What does BCC stand for?'."""
    out = []
    for sentence in sentences:
        for match in _ACRONYM.finditer(plain(sentence)):
            full, short = match.group(1).strip(), match.group(2)
            initials = "".join(w[0] for w in full.split() if w[0].isupper())
            if initials == short:
                out.append(Candidate(question=f"What does {short} stand for?",
                                     answer=f"{short} stands for {full}. {plain(sentence)}",
                                     evidence=full))
    return out


def count_pairs(sentences: list[str]) -> list[Candidate]:
    """'There are 50 Barrows in the fleet, ...' -> 'How many Barrows are there in the fleet?'."""
    out = []
    for sentence in sentences:
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
        question = steps_question(topic)
    return [Candidate(question=question, answer=plain("\n".join(steps)), evidence=steps[0])]


def list_pairs(statements: list[Statement]) -> list[Candidate]:
    """A bulleted list with no lead-in under a heading is asked as a whole: 'Items we cannot take' +
    '- Asbestos in any form' ... -> 'What are the items you cannot take?', 'Can you list the items you
    cannot take?', answered by every item (a longer item of the same list too). Its items say nothing
    alone; the heading says what they are."""
    lists: dict[tuple[str, ...], list[Statement]] = {}
    for statement in statements:
        if statement.kind == "item" and not statement.lead_in and statement.context:
            lists.setdefault(statement.context, []).append(statement)
    out = []
    for context, items in lists.items():
        if sum(map(is_listed_thing, items)) >= 2:  # its answer is the whole list: 'Electricity (metered): 34p ...' too
            heading, named = context[-1], list_name(context[-1])
            answer = "\n".join(f"- {item.text}" for item in items)
            out += [Candidate(question=question, answer=answer, evidence=items[0].evidence)
                    for question in list_questions(heading)]
            if is_plural_list(named):
                out += [member for item in items if is_listed_thing(item)
                        for member in member_pairs(item, heading, named)]
    return out


def member_pairs(item: Statement, heading: str, named: str) -> list[Candidate]:
    """'Is asbestos in any form among the items you cannot take?' of an item under a plural heading
    (``named``: the heading as the asker names it, ``list_name``)."""
    thing = item.text.rstrip(".")
    if thing.split()[0].lower() in FUNCTION_WORDS or label_value(item):
        return []  # not 'Is for a P2, within two business days among ...', nor 'Is pump-out: free among ...
    verb = "Are" if plural(lower_first(thing)) else "Is"
    return [Candidate(question=f"{verb} {lower_first(thing)} among the {named}?",
                      answer=f"Yes. {thing} {verb.lower()} among the {lower_first(heading.rstrip(':.'))}.",
                      evidence=item.evidence)]


def list_questions(heading: str) -> list[str]:
    """How a user asks for the list under ``heading``: 'Who can apply' -> 'Who can apply?';
    'Documents you need' -> 'What are the documents I need?' and 'Can you list the documents I need?';
    any other heading -> 'What should I know about <heading>?'."""
    if is_question_heading(heading):
        return [how_question(heading)]
    named = list_name(heading)
    if is_plural_list(named):
        return [f"What are the {named}?", f"Can you list the {named}?"]
    return [f"What should I know about {named}?"]


def list_name(heading: str) -> str:
    """A list's heading as the asker names it: 'Items we cannot take' -> 'items you cannot take'."""
    return user_voice(subject(re.sub(r"^(?i:the|your|our) ", "", heading.strip().rstrip(":."))))


def is_plural_list(name: str) -> bool:
    """'opening hours', 'items you cannot take': a plural head noun, first or last."""
    first = name.split()[0] if name.split() else ""
    return plural(name) or is_plural_noun(first) and is_noun(first)


def steps_question(topic: str) -> str:
    """'What are the steps for a repair request?'; a condition is asked as one: 'If you fall
    behind' -> 'What are the steps if I fall behind?'."""
    condition = condition_phrase(topic)
    return f"What are the steps {condition}?" if condition else f"What are the steps for {subject(topic)}?"


def is_question_heading(topic: str) -> bool:
    """'Who can book', 'How to pay', 'Can I ...?' are questions; 'Cancelling ...' is not."""
    words = topic.lower().split()
    return topic.endswith("?") or bool(words) and (words[0] in _QUESTION_WORDS[:6] or " ".join(words[:2]) in
                                                  {"how to", "how do", "how can", "how much", "how many", "how long",
                                                   "how we", "can i", "do i", "is there", "are there"})


def is_procedure_heading(topic: str) -> bool:
    first = topic.lower().split()[0] if topic.split() else ""
    return (topic.lower().startswith("how") or is_base_verb(first) or first.endswith("ing")
            or bool(re.search(r"\b(?:procedure|steps|process|checklist)\b", topic.lower())))


def how_question(topic: str) -> str:
    """'How to renew' / 'Renew your pass' -> 'How do I renew ...?'; 'Booking a bike' -> 'How does booking a bike work?';
    'When we're open' -> 'When are you open?'; a heading that asks already ('Do you see exotic pets?') as it is."""
    if topic.strip().endswith("?"):
        return sentence_case(topic.strip())
    topic = my(expand_contractions(topic.strip().rstrip(".:")))
    first, _, rest = lower_first(topic).partition(" ")
    if topic.lower().startswith("how to "):
        return f"How do I {topic[7:]}?"
    if topic.lower().startswith("how we "):
        return f"How do you {topic[7:]}?"
    inverted = _INDIRECT.match(topic)
    if inverted:
        wh, subj, aux, rest = inverted.groups()
        subj = {"you": "I", "we": "you"}.get(subj.lower(), subj)
        return " ".join(part for part in (sentence_case(wh.lower()), aux, subj, rest) if part) + "?"
    if is_question_heading(topic):
        return sentence_case(topic) + "?"
    if is_base_verb(first):
        return f"How do I {first.lower()} {rest}".strip() + "?"
    if first.lower().endswith("ing"):
        return f"How does {lower_first(topic)} work?"
    return steps_question(topic)


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


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]
