"""Questions a user would ask about each informative statement: several, of different kinds.

    for c in statement_questions(statement, topic, antecedent="the Barrow"):
        print(c.question, "->", c.answer)
    # How much does a Barrow booking cost? -> €6.00 per 3-hour slot. A Barrow booking costs €6.00 ...

In this order: wh-questions about the statement's key facts (``asking``: how much / how long /
how soon / when / what time / who / where / how many / which form / which number), the first
also asked a second way; questions from the statement's shape (``shapes``: yes/no for rules,
"What happens if ...?" for conditions, definitions, "What do all prices include?", "Who records
hours?", "Who is the <Role>?", "label: value" lines, table cells); then plain questions about
what the statement is about ("What should I know about ...?"), so that every statement has at
least ``MIN_QUESTIONS``. Each question is made self-contained (``topics.anchored``) and
distinct. No word list is tied to a domain: only closed English word classes, units, document
words ("guide", "handbook") and the document's own title and headings.

Every answer states the asked fact first, then the whole statement ("€6.00 per 3-hour slot.
A Barrow booking costs €6.00 per 3-hour slot."), so it is grounded and covers the statement.
"""

import re

from ..facts import Statement, key_facts, plain
from ..facts.statements import is_listed_thing, is_sentence
from ..facts.keyfacts import NUMBER_WORDS, fold
from ..facts.words import (ADVERBS, AUXILIARIES, DETERMINERS, FUNCTION_WORDS, MODALS, PARTICLES, PREPOSITIONS,
                           SUBORDINATORS, base_verb, expand_contractions, inflect_verb, is_base_verb, is_noun,
                           is_plural_noun, lower_first, upper_first, verb_forms)
from .asking import fact_questions, relative_questions
from .base import Candidate
from .clauses import Clause, condition_phrase, cut_tail, parse_clause, plural, user_voice
from .shapes import (fragment_clause, label_questions, label_value, role_questions, row_questions,
                     shape_questions)
from .topics import Topic, anchored, names_a_document
from ..records import words_key

MIN_QUESTIONS = 3
MAX_QUESTIONS = 6
MAX_QUESTION_WORDS = 30
_TALLY = re.compile(r"\b([A-Z][\w’'-]*(?: [\w’'-]+){0,2}):\s+(\d[\d,.]*)")
_NOT_A_NAME = re.compile(r"(?i)(?:if|when|whenever|unless|once|where|what|how|why|who|which|can|do|does|is|are)\b"
                         r"|.*\?$")  # a heading that is a condition or a question names nothing a pronoun stands for
PRONOUN_SUBJECTS = frozenset({"it", "they", "this", "these", "he", "she", "that", "those"})
_NOT_TOPICS = PRONOUN_SUBJECTS | {"there", "you", "i", "we", "me"}
_CLAUSE_SUBJECTS = frozenset({"they", "he", "she", "we", "i"})  # start a clause: 'realise they can be heard'
_NOT_PHRASE_STARTS = frozenset("or and but nor if unless because while whether which who whom whose what how why "
                               "where when than so such please it they he she we i you".split()) \
    | (AUXILIARIES - {"be", "been", "being", "need", "needs"}) | (ADVERBS - {"first"})
_CLAUSE_WORDS = frozenset("if when unless because so which that and".split())
_THAT_DATE = re.compile(r"\b(?:that|this|the same) (?:date|day)\b", re.IGNORECASE)
_ORDINALS = frozenset("first second third fourth fifth last next other".split())


def statement_questions(statement: Statement, topic: Topic, antecedent: str = "",
                        earlier_date: str = "") -> list[Candidate]:
    """Distinct candidates for one informative statement, most specific first (at least ``MIN_QUESTIONS``;
    the caller keeps ``MAX_QUESTIONS`` once questions repeated across statements are gone).
    ``antecedent``: what a pronoun subject stands for; ``earlier_date``: what 'that date' means."""
    clause = None
    if statement.kind == "row":
        raw = row_questions(statement)
    elif len(_TALLY.findall(statement.text)) >= 2 and statement.context:
        raw = tally_questions(statement)
    elif label_value(statement):
        raw = label_questions(*label_value(statement))
    else:
        clause = read_clause(statement, topic, antecedent, earlier_date)
        raw = fact_questions(clause) + relative_questions(clause.text) + shape_questions(clause, statement.text) \
            if clause else role_questions(statement.text, strict=True)  # a line without a verb: 'Jo Whitlock, Head Nurse'
    raw += item_questions(statement) + fallback_questions(statement, clause, topic)
    return finalize(raw, statement, topic)


def key_phrase(statement: Statement, clause: Clause | None = None) -> str:
    """The statement's first content words, as a phrase: 'You must be 16 to ride a Lark' -> 'riding a Lark'.
    Never past the verb of a statement read as subject + verb ('Members pay ...' -> 'members')."""
    named = clause and not clause.imperative and clause.verb_start \
        and clause.subject.lower() not in PRONOUN_SUBJECTS | {"you", "we", "i", "there"}
    text = clause.text[clause.subject_start:clause.verb_start] if named else expand_contractions(statement.text)
    text = re.sub(r"\S+@\S+|\bhttps?://\S+", "", text)  # an address is no phrase: not 'billing tallystack example'
    words = re.findall(r"[\w’'-]+", re.split(r"[,;:(—–]", text)[0].replace("”", "").replace('"', ""))
    after_determiner = False  # 'An update that says ...': a noun, not 'updating'
    while words and (words[0].lower() in FUNCTION_WORDS | PRONOUN_SUBJECTS | {"be", "been"} or words[0][:1].isdigit()):
        after_determiner, words = words[0].lower() in DETERMINERS, words[1:]
    words, cut_short = words[:5], len(words) > 5
    cut = next((i for i, w in enumerate(words) if w.lower() in AUXILIARIES | _CLAUSE_WORDS - {"and"}
                or w[:1].isdigit()), len(words))
    words = words[:cut]
    while cut_short and cut == 5 and len(words) > 1 and words[-1].islower() and not is_noun(words[-1]):
        words = words[:-1]  # 'two seats on the seven-member [Board]': not ending on a modifier
    while words and words[-1].lower() in FUNCTION_WORDS | PARTICLES | ADVERBS | {"least", "than"}:  # 'of up to'
        words = words[:-1]
    if not words or after_determiner and len(words) == 1 and not is_noun(words[0]):
        return ""  # 'A swollen, dropped or damaged battery': not 'swollen'
    if not named and len(words) > 1 and verb_forms(words[1]) & {"VBZ", "VBD"} and words[1].islower() \
            and is_sentence(statement.text) and words[0].lower() not in NUMBER_WORDS:  # 'Two seats were' is no 'two'
        return user_voice(lower_first(words[0]))  # 'Noise carries at night' -> 'noise', not 'noising carries'
    ordered = clause and clause.imperative and words[0].lower() == clause.lemma and len(words) > 1 \
        and words[1].lower() in DETERMINERS | PREPOSITIONS | PRONOUN_SUBJECTS  # 'Check with' -> 'checking with'
    if not named and is_base_verb(words[0]) and (words[0].islower() or ordered) and not after_determiner \
            and words[0] not in ADVERBS:  # not 'stilling unhappy'
        words[0] = inflect_verb(words[0], "VBG")
    return user_voice(lower_first(" ".join(words)))


def verb_phrase(clause: Clause | None) -> str:
    """What the statement says is done, as a gerund: 'We will contact you sooner if ...' -> 'contacting me sooner'."""
    if clause is None or clause.imperative:
        return ""
    body = [w for w in clause.text[clause.body_start:].split() if w.lower() not in ADVERBS | {"not", "never"}]
    if clause.copula:
        return passive_phrase(clause.subject, body)
    passive = passive_phrase(clause.subject, body[1:]) if body[:1] in (["be"], ["been"]) and not clause.lemma \
        and clause.subject.lower() not in PRONOUN_SUBJECTS | {"you", "we", "i"} else ""
    if passive:  # 'the duty master can be raised on VHF' -> 'the duty master being raised on VHF'
        return passive
    if clause.lemma:
        words = [clause.lemma] + clause.text[clause.lemma_end:].split()
    else:
        words = [w for w in clause.text[clause.body_start:].split()
                 if w.lower() not in ADVERBS | {"not", "never", "be", "been", "have"}]
    verb = base_verb(words[0].strip(",")) if words else None
    if verb is None or verb in {"mean", "refer"}:  # a definition: its term is the topic, not 'meaning a person'
        return ""
    if words[1:2] and words[1].lower() in _CLAUSE_WORDS:
        return ""  # 'explained that ...', 'will not return if ...': the verb alone says nothing
    phrase = object_words(words[1:], 4)
    if not phrase and re.match(r"\S*\d\S*\s+\S+\s+(?:after|before|from)\s", " ".join(words[1:])) \
            and 0 < len(clause.subject.split()) <= 4 and clause.subject.lower() not in PRONOUN_SUBJECTS | {"you", "we"}:
        return user_voice(f"{lower_first(clause.subject)} {inflect_verb(verb, 'VBG')}")  # 'credits expiring'
    if not phrase:
        return ""  # 'holds 12 Barrows', 'a charge applies': not a bare 'holding', 'applying'
    return user_voice(f"{inflect_verb(verb, 'VBG')} {' '.join(phrase)}".strip())


def passive_phrase(subject: str, words: list[str]) -> str:
    """'The share is refunded within 60 days' -> 'the share being refunded'; 'Charges are based on an
    estimate' -> 'charges being based on an estimate'. Empty unless the words open with a participle."""
    if not words or "VBN" not in verb_forms(words[0]) or len(subject.split()) > 5:
        return ""
    complement = object_words(words[1:], 5) if words[1:2] and words[1].lower() in PREPOSITIONS else []
    return user_voice(" ".join([lower_first(subject), "being", words[0].strip(","), *complement]))


def object_words(words: list[str], most: int) -> list[str]:
    """The words after a verb that say what it acts on, up to a clause break, a new subject or a figure,
    at most ``most`` of them and not ending on a modifier ('on an estimate of the costs' -> 'on an
    estimate'; 'moorings in the outer [river]' -> 'moorings'; 'within 60 days' -> nothing)."""
    def upto(count: int) -> list[str]:
        return re.split(r",|\s(?:if|when|unless|because|so|which|that|and)\s", " ".join(words[:count]))[0].split()

    def dangling(phrase: list[str]) -> bool:  # cut after a modifier: 'the new-patient [health questionnaire]'
        return bool(phrase) and len(words) > len(phrase) and phrase[-1].islower() and not is_noun(phrase[-1]) \
            and phrase[-1].lower() not in FUNCTION_WORDS | PREPOSITIONS

    phrase = upto(most)
    for longer in (most + 1, most + 2):  # reach the noun a couple of words on, else stop before the modifier
        phrase = upto(longer) if len(phrase) == longer - 1 and dangling(phrase) else phrase
    while len(phrase) >= most and dangling(phrase):
        phrase = phrase[:-1]
    phrase = phrase[:next((i for i, w in enumerate(phrase) if w.lower() in _CLAUSE_SUBJECTS), len(phrase))]
    phrase = phrase[:next((i for i, w in enumerate(phrase) if w[:1].isdigit() or w[:1] in "€£$"), len(phrase))]
    while phrase and (phrase[-1].lower() in FUNCTION_WORDS | PREPOSITIONS | {"least", "using", "via"}):
        phrase = phrase[:-1]
    return phrase


def listed_item(statement: Statement) -> str:
    """The item of 'Each report gets one of these codes: F2 Tyres and wheels.' ('F2 Tyres and wheels')."""
    if not statement.lead_in or ": " not in statement.text:
        return ""
    item = statement.text.split(": ", 1)[1].rstrip(".").split(": ")[0]  # 'The exceptions are: 3D printer: 4 hours'
    return item if len(item.split()) <= 8 else ""


def item_questions(statement: Statement) -> list[tuple[str, str]]:
    """'... codes: F2 Tyres and wheels' -> 'What is F2?'; every listed item is asked about by name."""
    item = listed_item(statement)
    if not item:
        return []
    code = next((f.text for f in key_facts(item) if f.kind in {"code", "name"} and f.start == 0), "")
    out = [(f"What is {code}?", item), (f"What does {code} stand for?", item)] if code else []
    return out + [(f"What should I know about {item}?", "")]


def tally_questions(statement: Statement) -> list[tuple[str, str]]:
    """'For: 270 Against: 16 Abstain: 12' under 'Resolution 2 — Heron fleet expansion': ask for the figures."""
    where = lower_first(statement.context[-1])
    value = statement.text.rstrip(".")
    counts = [(f"How many {label.lower()} were there for {where}?", number) for label, number in _TALLY.findall(value)]
    return [(f"What were the results for {where}?", value), (f"What were the figures for {where}?", value)] + counts


def read_clause(statement: Statement, topic: Topic, antecedent: str, earlier_date: str = "") -> Clause | None:
    """The statement's clause, with a pronoun subject replaced by what it stands for, and 'that date'
    by ``earlier_date`` ('... by 1 March. After that date a fee applies' -> 'After 1 March a fee applies')."""
    fragment = fragment_clause(statement.text, f"the {lower_first(topic.document)}") if topic.document.strip() else None
    text = _THAT_DATE.sub(earlier_date, statement.text) if earlier_date else statement.text
    clause = fragment or parse_clause(text, instruction=statement.kind in {"step", "item"})
    if clause and clause.subject.lower() in PRONOUN_SUBJECTS:
        heading = topic.path[-1] if topic.path and not _NOT_A_NAME.match(topic.path[-1]) else ""
        named = antecedent or (with_determiner(lower_first(heading)) if heading else topic.org)
        plural_name = plural(named) or any(is_plural_noun(word) and is_noun(word) for word in named.split())
        if not named or not antecedent and clause.subject.lower() in {"they", "these", "those"} and not plural_name:
            return None  # a question about 'it' would not say what it is about; 'they' is no heading 'Your rent year'
        clause.subject = named
        if clause.aux in {"do", "does"} and clause.lemma:
            clause.aux = "do" if plural(named) else "does"
    return clause


def only_date(statement: Statement) -> str:
    """The one date a statement names (what 'that date' in the next one means), else ''."""
    dates = {f.text for f in statement.facts if f.kind == "date"}
    return dates.pop() if len(dates) == 1 else ""


def with_determiner(phrase: str) -> str:
    """'rent year' -> 'the rent year'; 'your rent year' and 'my account' stay as they are."""
    return phrase if phrase.split()[0].lower() in DETERMINERS else f"the {phrase}"


def finalize(raw: list[tuple[str, str]], statement: Statement, topic: Topic) -> list[Candidate]:
    out, seen = [], set()
    strict = statement.kind == "row" and len(statement.row["key"]) <= 12
    for question, direct in raw:
        if not question or not 3 <= len(question.split()) <= MAX_QUESTION_WORDS:
            continue
        question = anchored(question, topic, strict=strict)
        key = words_key(question)
        if key not in seen:
            seen.add(key)
            out.append(Candidate(question=question, answer=answer_text(direct, statement),
                                 evidence=statement.evidence, fact=statement.text))
    return out


def answer_text(direct: str, statement: Statement) -> str:
    """The asked fact first, then the statement: '€6.00 per 3-hour slot. A Barrow booking costs ...'."""
    direct = re.sub(r"^(?:of|and|or)\s+", "", plain(direct).strip(" ,;:()"), flags=re.IGNORECASE)
    direct += ")" * (direct.count("(") - direct.count(")"))  # 'Accounts office (01752 604 120)' keeps its bracket
    if not direct or statement.kind == "faq" or fold(direct) == fold(statement.text.rstrip(".")):
        return statement.text
    direct = direct if re.match(r"\S+@|https?://|www\.", direct) else upper_first(direct)  # an address as written
    return f"{direct}{'' if direct.endswith(('.', '!', '?')) else '.'} {statement.text}"


def subject_phrase(statement: Statement, clause: Clause | None, topic: Topic) -> str:
    """What the statement is about, as a noun phrase for plain questions."""
    if clause and clause.imperative:
        first_fact = min((f.start for f in key_facts(clause.text) if f.start >= clause.lemma_end), default=None)
        rest = re.split(r"\s*[(\[]|\s(?:if|when|unless|because|until|so that)\s",  # 'the office (01632 ...)'
                        clause.text[clause.lemma_end:first_fact])[0]
        rest = re.sub(r"(?:\s+(?:at least|at most|no more than|up to|within|after|before|by|at|on|in|for|from|using|"
                      r"via|with))+\s*$", "", " ".join(rest.split()[:6]).strip(" ,"), flags=re.IGNORECASE)
        return user_voice(cut_tail(f"{inflect_verb(clause.lemma, 'VBG')} {rest}"))
    if clause and clause.lead.lower().startswith("to ") and clause.subject.lower() in {"you", "i", "we"}:
        words = clause.lead.split()
        return user_voice(" ".join([inflect_verb(words[1].lower(), "VBG")] + words[2:]))
    subject = re.sub(r"\s+(?:of|at|for|from|above|over|under|below|after|before|within)\s+"
                     r"(?:up to |at least |more than |less than )?\S*\d.*$", "",
                     clause.subject) if clause else ""  # 'a charge of 25p ...', 'entertainment above £300 ...'
    subject = re.sub(r"\s*\([^)]*\)?|[\"“”]|\s+aged$", "", subject)
    figures = any(f.kind not in {"name", "code"} for f in key_facts(subject))  # 'Up to two children', 'Ring 01632 ...'
    if clause and 0 < len(subject.split()) <= 8 and subject.lower() not in _NOT_TOPICS and not figures:
        return user_voice(lower_first(subject))
    if statement.row:
        return statement.row["key"]
    names = [f.text for f in statement.facts if f.kind in {"name", "code"}]
    counted = [f.text.split(" ", 1)[1] for f in statement.facts if f.kind == "count" and " " in f.text]
    return (names or counted or [lower_first(topic.path[-1]) if topic.path else topic.document])[0]


def step_question(step: int, heading: str) -> str:
    """'What is step 2 of booking and collecting?'; a heading that is a condition is asked as one:
    'If you fall behind with your rent' -> 'What is step 2 if I fall behind with my rent?'."""
    condition = condition_phrase(heading)
    return f"What is step {step} {condition}?" if condition else f"What is step {step} of {procedure_name(heading)}?"


def procedure_name(heading: str) -> str:
    """'How to book and collect' -> 'booking and collecting'; 'Routine Check procedure' -> 'the Routine ...'."""
    if heading.lower().startswith("how to "):
        words = heading[7:].split()
        return user_voice(" ".join(inflect_verb(w, "VBG") if is_base_verb(w) and w.islower() else w for w in words))
    body = lower_first(heading)
    return body if body.split()[0].lower() in FUNCTION_WORDS else f"the {body}"


def with_article(phrase: str, text: str) -> str:
    """'shift' -> 'the shift' when ``text`` counts it ('Every shift of 6 hours'): a bare singular
    noun reads as a fragment after 'What should I know about'; one used bare ('Cash is') stays."""
    bare = re.fullmatch(r"[a-z][a-z-]+", phrase) and is_noun(phrase) and not is_plural_noun(phrase)
    counted = bare and re.search(rf"(?i)\b(?:a|an|the|every|each|any|this|that)\s+{phrase}\b", text)
    return f"the {phrase}" if counted else phrase


def is_topic(phrase: str) -> bool:
    """Whether a phrase can follow "What should I know about": a whole noun phrase, not a clause
    cut short ('a tenant who', 'repairs that', "the Association's", 'which for this purpose'), a
    list ('anywhere in the country, me'), a heading number ('Part Five', 'staging 2'), a sentence
    start ('or if the business', 'please register'), a question ('can I have a dog?', a heading
    that asks one), an instruction ('call the Income team'), an ordinal without its noun ('a
    second') or a code cut short ('HV-')."""
    words = phrase.split()
    if not words or "," in phrase or "?" in phrase or phrase.endswith("-") or len(words) > 8:
        return False
    if len(words) == 2 and words[0].lower() in {"a", "an", "the"} and words[1].lower() in _ORDINALS:
        return False  # 'a second': the noun it numbers was cut off
    first, last = words[0].lower(), words[-1].lower()
    return last not in FUNCTION_WORDS | SUBORDINATORS | PREPOSITIONS and not last.endswith(("'s", "’s")) \
        and first not in _NOT_PHRASE_STARTS \
        and not is_instruction(words) \
        and not (last.isdigit() and (len(words) == 1 or words[-2][:1].islower())) \
        and not re.fullmatch(r"(?i)(?:part|section|chapter|step|appendix|schedule)\s+\S+", phrase)


def is_instruction(words: list[str]) -> bool:
    """Whether the words start like an instruction: a base verb, then a determiner ('call the ...')."""
    return len(words) > 1 and words[1].lower() in DETERMINERS and is_base_verb(words[0])


def gerund(phrase: str) -> str:
    """An instruction as a topic: 'replace any tyre' -> 'replacing any tyre'; other phrases unchanged."""
    words = phrase.split()
    if is_instruction(words) and words[0].islower():
        return " ".join([inflect_verb(words[0], "VBG"), *words[1:]])
    return phrase


def fallback_questions(statement: Statement, clause: Clause | None, topic: Topic) -> list[tuple[str, str]]:
    """Plain questions about what the statement is about, so every fact has several phrasings."""
    label = label_value(statement)
    doing = "" if label and statement.lead_in else gerund(verb_phrase(clause) or key_phrase(statement, clause))
    heading = lower_first(topic.path[-1]) if topic.path else ""
    phrases = [label[0] if label else subject_phrase(statement, clause, topic), doing, heading, topic.document]
    if is_listed_thing(statement):
        phrases = [doing]  # an item of a list: its heading names the whole list (rules.list_pairs)
    np = with_article(next((phrase for phrase in phrases if is_topic(phrase)), ""), statement.text)
    if not np:
        return []
    doing = "" if not is_topic(doing) else with_article(doing, statement.text)
    doing = "" if re.sub(r"^(?:an?|the) ", "", doing.lower()) == re.sub(r"^(?:an?|the) ", "", np.lower()) else doing
    out = [f"What should I know about {np}?"] + ([f"What should I know about {doing}?"] if doing else [])
    document = topic.document
    if names_a_document(document) and not document.lower().startswith(("how ", "what ", "who ", "when ", "why ")) \
            and document.lower() != np.lower():
        out.append(f"What does the {re.sub(r'^(?i:the|an?) ', '', document)} say about {np}?")
    if statement.step is not None and topic.path:
        out.append(step_question(statement.step, topic.path[-1]))
    rule = clause is not None and (clause.aux in MODALS or clause.negation is not None)
    for phrase in [np] + ([doing] if doing else []):
        out.append(f"What is the rule on {phrase}?" if rule else f"Can you tell me about {phrase}?")
        out.append(f"What do I need to know about {phrase}?")
    return [(q, "") for q in out]
