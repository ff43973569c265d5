"""Wh-questions about the key facts of a statement, made by re-ordering its own clause.

    for question, answer in fact_questions(parse_clause(text)):
        ...   # 'How much does a Barrow booking cost?', '€6.00 per 3-hour slot'

For each fact of the main clause (not one in brackets, a list or a trailing clause), the span
the question leaves out is the fact with what belongs to it: facts joined to it ("10:00 and
11:00"), its unit ("per 3-hour slot"), what it is relative to ("before your shift starts") and
its preposition. The question word comes from the fact's kind and that preposition: money ->
how much; a duration after "within" -> how soon, before "before" -> how far in advance, else how
long; a count -> how many <noun>; a time -> what time / when; a name after "at" -> where; a
form code -> which form; a phone number -> which number. The first fact is also asked a second
way (what time <-> when, how long -> how many hours, how much -> what does it cost).

Three shapes are asked differently: values listed with what each applies to get one question
each ("£45 within the UK and £60 abroad"), two verb phrases are asked one at a time ("opens at
9:00 and closes at 17:00"), and a fact that describes the subject is asked with "which"
("Claims submitted after 90 days are rejected" -> "Which claims are rejected?").
"""

import re

from ..facts import KeyFact, key_facts
from ..facts.words import (AUXILIARIES, DETERMINERS, FUNCTION_WORDS, PREPOSITIONS, is_dictionary_word, is_noun,
                           is_plural_noun, lower_first, upper_first, verb_forms)
from .clauses import CLAUSE_BREAK, Clause, ask, ask_subject, finish, parse_clause

MAX_FACT_QUESTIONS = 3
_PRIORITY = ["money", "duration", "time", "date", "count", "measure", "percent", "phone", "email", "code",
             "frequency", "day", "number", "year", "url", "name"]
_TEMPORAL = {"time", "date", "day", "year", "duration"}
_PREPOSITION = (r"(?:at least|at most|(?:no |not )?more than|(?:no |not )?less than|(?:no |not )?\w+er than|"
                r"(?:not )?exceeding|up to|within|after|"
                r"before|until|from|between|during|since|through|at|on|in|by|for|of|every|each|per|over|under|"
                r"about|around|only|to|using|via)")
_LEFT = re.compile(rf"(?:\b{_PREPOSITION}\s+){{1,2}}(?:the (?:following|next|same|first|last) )?$", re.IGNORECASE)
_ORDINAL_DATE = re.compile(r"\b(?:on|by|from|until|before|after) the $", re.IGNORECASE)  # 'on the 25th'
_JOIN = re.compile(r"^\s*(?:\([^)]*\)\s*)?(?:,\s*)?(?:and|or|to|until|through|[-–—&])?\s*(?:and\s|or\s)?\s*$")
_UNIT_TAIL = re.compile(r"^(?:\s*(?:per|a|an|each|every)\s+(?:[\w-]+\s(?!(?:for|and|or|in|on|at|to|of|after|before|"
                        r"with|from|by|until|than|if|when|within|per|each|every)\b))?[\w-]+)+"
                        r"(?:\s+of\s+(?!the\b|your\b|our\b|their\b)[a-z]+"
                        r"(?:\s(?!(?:for|and|or|in|on|at|to|if|when)\b)[a-z]+)?)?"
                        r"(?:\s+each\b)?")  # '25p per item per day', '8p per gram of filament'
_PRICE_TAIL = re.compile(r"^\s*for\s+(?:a|an|one|\d+|[a-z]+)[\s-](?:[a-z]+\s)?(?:hours?|days?|weeks?|months?|years?|"
                         r"nights?|minutes?|items?|people|persons?)\b")
_RELATIVE_TAIL = re.compile(r"^\s*(?:before|after|ahead|in advance|beforehand|earlier|later|ago|of)\b[^,;:()]*")
_PHRASE = r"(?:[^,;:.()]|(?<=\d)[,.](?=\d))*"  # up to a comma or stop that is not inside a number ('10,000')
_MEMBER_GAP = re.compile(rf"\s*({_PHRASE}?)\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or)\s+)")
_OR_MORE = re.compile(r"\s+(?:or|and)\s+(?:longer|shorter|more|less|fewer|over|under|above|below|higher|lower|"
                      r"greater)\b")
_SECOND_VERB = re.compile(r",?\s(?:and|but)\s+(?:(?:also|then|only|usually)\s+)?([a-z]+)\s+([^\s]+)")
_WHICHEVER = re.compile(r",?\s+whichever\s+(?:is|comes)\s+(?:the\s+)?(?:\w+er|more|less|first|last|sooner)\b")
_PERCENT_OF = re.compile(r"\s+of\s+(?:the |your |their |its |each |a |an |any )?[\w-]+(?: [\w-]+){0,3}?"
                         r"(?=[,;:.)]|$|\s(?:and|or|if|when|unless|for|which|that|is|are)\b)")
_DATE_RANGE = re.compile(r"\bfrom\b.*\b(?:to|until)\b|\bbetween\b.*\band\b|\d\s*[–-]\s*\d"
                         r"|\d\w*\s+(?:\w+\s+)?(?:to|until)\s+\w*\d")
_LIMIT = re.compile(r"\(?(?:for |in |by )?(?:(?:no )?more than|longer than|over|under|less than|fewer than|above|"
                    r"below)\b",
                    re.IGNORECASE)  # a bound, which a negated clause turns around
_POSSESSIVE_NOUN = re.compile(r"(?:'s|’s|'|’)\s+[a-z]+\b")  # "4 weeks' notice": what the duration measures
_QUANTITY_BEFORE = re.compile(r"\b(?:maximum|minimum|total|limit|average|period|block|blocks)\s+$", re.IGNORECASE)
_DIMENSIONS = "long|wide|high|tall|deep|thick"
_DIMENSION = re.compile(rf"\s({_DIMENSIONS})$", re.IGNORECASE)  # ends a measure's span: '25 metres long'
_DIMENSION_NOUNS = {"How long": "What length", "How wide": "What width", "How high": "What height",
                    "How tall": "What height", "How deep": "What depth", "How thick": "What thickness"}
_CONDITION_BEFORE = re.compile(r"\b(?:if|unless|when|whenever|provided)\b", re.IGNORECASE)  # not 'once a year'
_POINTING = re.compile(r"\b(?:that|this|it|these|those|them)\b", re.IGNORECASE)  # 'after that': points elsewhere
_COUNTED_AS = re.compile(r"\bas\s+$", re.IGNORECASE)
_COMPANY = frozenset("ltd limited plc llp inc llc gmbh co corp".split())
_BEFORE_A_NAME = frozenset({"", "the", "our", "your", "only"})
_BE_FORMS = frozenset("be is are am was were been being".split())
_WHICH = re.compile(r",\s+which\s+(?=[a-z])")
_DESCRIBED = re.compile(r"(?:\b(?:the|a|an|this|that|your|our|its|their)\s+(?:[\w’'-]+\s+){0,3}?[\w’'-]+"
                        r"|(?:[A-Z][\w’'-]*\s+){1,4}[A-Z][\w’'-]*)$")  # a noun phrase or a name, last in the text
_NUMERIC = {"count", "number", "percent", "money", "measure", "duration"}
_AGE_BEFORE = re.compile(r"\b(?:aged(?:\s+(?:under|over|above|below))?|(?:(?:under|over|above|below)\s+)?"
                         r"the age of)\s*$", re.IGNORECASE)
_AGE_SPAN = re.compile(r"^(?:aged|(?:\w+\s+)?the age of)\b|\bold(?:\s+(?:or|and)\s+\w+)?$", re.IGNORECASE)
_AGE_AFTER = re.compile(r"(?:\s+years?)?(?:\s+old)?(?:\s+(?:or|and)\s+(?:over|above|older|under|younger|below))?")
_PLACE_PREPOSITIONS = {"at", "in", "from", "to", "near", "outside", "inside", "into", "behind", "next"}
_UNIT_WH = [(r"km/h|kph|mph", "How fast", "At what speed"), (r"kg|lbs?|oz|\bg\b|mg", "How much weight", "What weight"),
            (r"km|miles?|metres?|meters?|\bm\b|feet|ft|cm|mm", "How far", "What distance"),
            (r"°|degrees", "What temperature", "At what temperature"),
            (r"psi|bar", "What pressure", "How much pressure")]


def fact_questions(clause: Clause) -> list[tuple[str, str]]:
    """Up to ``MAX_FACT_QUESTIONS`` wh-questions, one per fact, the first also asked a second way;
    a statement with two verb phrases ('opens at 9:00 and closes at 17:00') is asked as two."""
    facts = key_facts(clause.text)
    parts = verb_phrases(clause, facts)
    if len(parts) > 1:
        return [question for part in parts for question in fact_questions(part)]
    ranked = [f for f in sorted(facts, key=lambda f: _PRIORITY.index(f.kind) if f.kind in _PRIORITY else 99)
              if askable(clause, f) and not f.text.lower().startswith("one ")]
    asked, covered = [], []
    for fact in ranked:
        start, end = fact_phrase(clause.text, fact, facts)
        if any(s <= fact.start < e for s, e in covered):
            continue
        members = enumeration(clause, fact, facts)
        if members:
            asked.extend(member_questions(clause, members, facts))
            covered.append((members[0][0][0], members[-1][1][1]))
            continue
        question = wh_question(clause, fact, facts)
        if question and question[0]:
            asked.append(question)
            covered.append((start, end))
    asked = [q for q in asked if q[0]][:MAX_FACT_QUESTIONS]
    return asked[:1] + [q for q in [alternative(clause, ranked, facts)] if q and q[0] and q not in asked] + asked[1:]


def trailing_relative(text: str) -> tuple[str, Clause] | None:
    """A clause after ', which' with the noun phrase it describes as its subject: '... to Hatherley Lane
    Recycling Centre, which is open 8am to 6pm' -> ('Hatherley Lane Recycling Centre', 'Hatherley Lane
    Recycling Centre is open 8am to 6pm'); '... speeds up the decision, which normally takes 15 working
    days' -> ('the decision', ...). None without one, or when the noun phrase is not clear."""
    match = _WHICH.search(text)
    if not match:
        return None
    described = _DESCRIBED.search(text[:match.start()])
    before = text[:described.start()].split()[-1:] if described else []
    if not described or described.group().split()[0].lower() in PREPOSITIONS \
            or before and (before[0].lower() in {"of", "per", "each", "every"} or before[0][:1].isdigit()):
        return None  # 'a rebate of €3 per Member, which ...' describes the rebate, not the Member
    noun = described.group().strip()
    clause = parse_clause(f"{noun} {text[match.end():].strip()}")
    return (noun, clause) if clause and clause.subject.lower() == noun.lower() else None


def relative_questions(text: str) -> list[tuple[str, str]]:
    """Questions about the facts of a trailing ', which' clause, asked of what it describes (two at
    most: the main clause's questions come first)."""
    found = trailing_relative(text)
    return fact_questions(found[1])[:2] if found else []


def verb_phrases(clause: Clause, facts: list[KeyFact]) -> list[Clause]:
    """'The office opens at 9:00 and closes at 17:00' -> the office opens at 9:00 / the office closes
    at 17:00. Split where 'and' is followed by an auxiliary ('and is only allowed'), or by a verb of
    the main verb's form just after a fact ('covers insurance and repairs to bikes' stays whole)."""
    if clause.imperative or clause.lead and clause.condition:
        return [clause]
    text, main = clause.text, verb_forms(clause.text[clause.verb_start:].split(" ")[0]) & {"VBZ", "VBD", "VBP"}
    for match in _SECOND_VERB.finditer(text, clause.body_start):
        word, following = match.group(1), match.group(2)
        fact_before = any(0 <= match.start() - f.end <= 25 and f.start >= clause.body_start for f in facts)
        auxiliary = word in AUXILIARIES - {"need", "needs", "do", "does", "did"}
        verb = fact_before and verb_forms(word) & main and (
            not is_noun(word) or following.lower() in PREPOSITIONS | DETERMINERS or following[:1].isdigit()
            or following[:1] in "€£$")
        if auxiliary or verb:
            lead = text[:clause.subject_start]
            first = parse_clause(f"{lead}{clause.subject} {text[clause.verb_start:match.start()].strip(' ,')}.")
            second = parse_clause(f"{lead}{clause.subject} {text[match.start(1):]}")
            if first and second:
                return [first, second]
    return [clause]


def enumeration(clause: Clause, fact: KeyFact, facts: list[KeyFact]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The values of one kind listed with what each applies to, as (value span, qualifier span)
    pairs: 'is £45 within the UK and £60 abroad' -> [(£45, within the UK), (£60, abroad)]. Empty
    when ``fact`` is not the first of two or more such values after the verb."""
    text = clause.text
    span = fact_phrase(text, fact, facts)
    if span[0] < clause.body_start:
        return []
    members = []
    for other in sorted((f for f in facts if f.start >= span[1] and f.kind == fact.kind), key=lambda f: f.start):
        other_span = fact_phrase(text, other, facts)
        gap = _MEMBER_GAP.fullmatch(text[span[1]:other_span[0]])
        if not gap or not _short_qualifier(gap.group(1)):
            break
        members.append((span, (span[1] + gap.start(1), span[1] + gap.end(1))))
        span = other_span
    last = re.match(_PHRASE, text[span[1]:])
    if not members or not _short_qualifier(last.group(0)):
        return []
    qualifier_end = span[1] + len(last.group(0).rstrip())
    return members + [(span, (span[1] + len(last.group(0)) - len(last.group(0).lstrip()), qualifier_end))]


def member_questions(clause: Clause, members: list, facts: list[KeyFact],
                     second: bool = False) -> list[tuple[str, str]]:
    """One question per listed value, naming only its own qualifier: 'How much is the daily meal
    allowance abroad?' (with ``second``, the first value asked the second way only). A qualifier
    that points elsewhere ('after that') is not asked."""
    questions = []
    whole = (members[0][0][0], members[-1][1][1])
    for (value, qualifier) in members[:1] if second else members:
        fact = next(f for f in facts if value[0] <= f.start < value[1])
        phrase = clause.text[value[0]:value[1]]
        wh = wh_word(fact, phrase, False, clause.text[:value[0]])
        wh = second_wh(wh, fact, clause) if second else wh
        if wh is None or _POINTING.search(clause.text[qualifier[0]:qualifier[1]]):
            continue
        removals = [(whole[0], qualifier[0]), (qualifier[1], whole[1])]
        value_only = re.sub(rf"^\(?{_PREPOSITION}\s+", "", phrase, flags=re.IGNORECASE)
        questions.append((ask(clause, wh, removals), value_only))
    return questions


def _short_qualifier(text: str) -> bool:
    """What a listed value applies to: a few words, not another clause ('within the UK', 'abroad')."""
    words = text.split()
    return 0 < len(words) <= 10 and not CLAUSE_BREAK.search(text) and not any(
        w.lower() in AUXILIARIES or verb_forms(w) & {"VBZ", "VBD", "VBP"} and not is_noun(w)
        and before.lower() not in DETERMINERS for before, w in zip([""] + words, words))  # 'each further child'



def askable(clause: Clause, fact: KeyFact) -> bool:
    """A fact of the main clause: not in brackets, a list ('one or two slots') or a trailing clause."""
    text = clause.text
    before = text[max(clause.verb_start, clause.main_start):fact.start]
    if fact.start < clause.verb_start:
        before = text[clause.main_start:fact.start]
    if before.count("(") > before.count(")") or re.search(r"\b(?:and|or)\s+(?:(?:in|at|on|by|for|with)\s+)?$", before):
        return False  # 'in full or in two equal instalments': one of two alternatives
    if any(verb_forms(m.group(1)) & {"VBD", "VBZ"} and not is_noun(m.group(1))
           for m in re.finditer(r"\s(?:and|or)\s+(\w+)", before)):
        return False  # 'gave 3,460 hours and carried out 2,930 checks': a second verb phrase
    if CLAUSE_BREAK.search(before):
        return False
    if fact.kind == "measure" and re.match(r"\s+[a-z]+\b", text[fact.end:]) and is_noun(text[fact.end:].split()[0]) \
            and re.search(r"\b(?:of|a|an|the)\s+$", before):
        return False  # 'a sheet of 3mm plywood': the measure says which plywood, it is not asked for
    # a relative clause after the verb trails off; one in the subject is asked by ``described_head``
    relative = r"|\b(?:that|which|who|whose)\b" if fact.start >= clause.verb_start else ""
    return not re.search(rf";|:\s{relative}|, (?:\w+ ){0,3}\w+ing\b"
                         r"|, (?:which|who|whose|whichever|so|but|because|while|whereas|with|without|including)\b", before)


def fact_phrase(text: str, fact: KeyFact, facts: list[KeyFact]) -> tuple[int, int]:
    """The span a question leaves out: the fact, facts joined to it ('10:00 and 11:00'), its unit
    ('per 3-hour slot'), what it is relative to ('before your shift starts') and its preposition."""
    start, end = fact.start, fact.end
    if fact.kind == "count":
        end = fact.start + len(fact.text.split(" ")[0]) + len(count_noun(text, fact)[1])
    for other in sorted((f for f in facts if f.start >= end), key=lambda f: f.start):
        gap = text[end:other.start]
        alternatives = {other.kind, fact.kind} <= _NUMERIC and re.fullmatch(r"\s+or\s+", gap)
        same = other.kind == fact.kind or {other.kind, fact.kind} <= {"count", "number"} \
            or {other.kind, fact.kind} == {"day", "date"} and (not gap.strip() or _JOIN.match(gap))
        if not (same and _JOIN.match(gap) or alternatives):
            break
        end = other.end
    if fact.kind in {"money", "count", "measure", "duration", "percent"}:
        tail = _UNIT_TAIL.match(text[end:]) or fact.kind == "money" and _PRICE_TAIL.match(text[end:])
        end += unit_tail_end(tail.group()) if tail else 0
        for other in sorted((f for f in facts if f.start >= end), key=lambda f: f.start):
            if other.kind != fact.kind or not re.fullmatch(r"\s+or\s+", text[end:other.start]):
                break  # '£32.05 for three months or £114.50 for twelve months'
            tail = _UNIT_TAIL.match(text[other.end:]) or _PRICE_TAIL.match(text[other.end:])
            end = other.end + (tail.end() if tail else 0)
    if any(f.kind == "percent" and f.end == end for f in facts):  # '5% of the order value'
        share = _PERCENT_OF.match(text[end:])
        end += share.end() if share else 0
    possessive = _POSSESSIVE_NOUN.match(text[end:]) if fact.kind == "duration" else None
    end += possessive.end() if possessive else 0  # "4 weeks' notice", "1 week’s pay"
    if fact.kind in _NUMERIC:  # '6 hours or longer', '£25 or more'
        more = _OR_MORE.match(text[end:])
        end += more.end() if more else 0
    if fact.kind == "measure":  # '25 metres long': the dimension goes with its figure
        dimension = re.match(rf"\s+(?:{_DIMENSIONS})\b", text[end:])
        end += dimension.end() if dimension else 0
    if fact.kind == "date":  # 'on Friday 27 February 2026': the day goes with its date
        start = next((f.start for f in facts if f.kind == "day" and f.end <= start
                      and not text[f.end:start].strip(" ,")), start)
    if fact.kind in {"duration", "time", "date"}:
        tail = _RELATIVE_TAIL.match(text[end:])
        end += tail.end() if tail else 0
    age = _AGE_BEFORE.search(text[:start]) if fact.kind in {"count", "number"} else None
    if age or fact.kind in {"count", "number", "duration"} and re.match(r"\s*(?:years?\s+)?old\b", text[end:]):
        start = age.start() if age else start  # 'aged 21 or over', '16 years old or older': asked 'How old'
        end += _AGE_AFTER.match(text[end:]).end()
    if fact.kind in {"code", "phone", "email"}:  # 'on Incident Form IR-3': the form's name goes with it
        named = re.search(r"(?:\b[A-Z][\w-]*\s)+$", text[:start])
        start = named.start() if named and named.start() > 0 else start
    dated = text[start:start + 1].isdigit() or fact.kind == "day"  # 'on the 25th', 'on the Friday before'
    left = _LEFT.search(text[:start]) or (_ORDINAL_DATE.search(text[:start]) if dated else None)
    start = left.start() if left else start
    if text[start - 1:start] == "(" and text[end:end + 1] == ")":
        start, end = start - 1, end + 1
    whichever = _WHICHEVER.match(text[end:])  # '30 days or 14 days of delivery, whichever is longer'
    return start, end + (whichever.end() if whichever else 0)


def in_condition(clause: Clause, start: int) -> bool:
    """Whether a fact starting at ``start`` is in an 'if/when/unless' clause of the predicate: '… counts
    as Downtime if it lasts longer than 30 minutes' is not asked 'How long … if it lasts?'."""
    return bool(_CONDITION_BEFORE.search(clause.text[clause.body_start:start]))


def unit_tail_end(tail: str) -> int:
    """Where a unit after a figure ends: 'per 3-hour slot', not 'per item applies' (a verb ends it)."""
    last = tail.split()[-1] if tail.split() else ""
    verb = len(tail.split()) > 2 and verb_forms(last) & {"VBZ", "VBD", "VBP"} and not is_noun(last)
    return len(tail) - len(last) - 1 if verb else len(tail)


def wh_word(fact: KeyFact, phrase: str, in_subject: bool, before: str = "") -> str | None:
    """The question phrase for a fact: 'How much', 'How soon', 'How many bikes', 'On which form' ...
    (``before``: the text before ``phrase``)."""
    prep = re.match(rf"\(?({_PREPOSITION})\b", phrase, re.IGNORECASE)
    prep = prep.group(1).lower() if prep else ""
    kind = fact.kind
    if prep == "of" and (kind in {"count", "number"} or kind == "duration" and _QUANTITY_BEFORE.search(before)):
        return None  # 'up to a maximum of ten items': the figure belongs to the noun before it
    if kind == "measure" and _COUNTED_AS.search(before):
        return None  # 'vessels are charged as 8 metres': what a thing counts as, not a distance to ask for
    if kind in {"count", "number", "duration"} and _AGE_SPAN.search(phrase):  # the span of an age: ``fact_phrase``
        subjects = in_subject or before.split()[-1:] and before.split()[-1].lower() in _BE_FORMS
        return "How old" if subjects else None  # not 'an adult aged 16 or over': the age is the adult's
    if kind == "money":
        return "How much"
    if kind == "percent":
        return "At what rate" if prep == "at" else "What percentage"  # 'attract interest at 2% a month'
    if kind == "time":
        return "What time" if prep in {"at", "by", "until", "before", "after"} else "When"
    if kind in {"date", "day", "year"}:
        return "When"
    if kind == "frequency":
        return "How many times" if fact.text.endswith("times") else "How often"
    if kind == "duration":
        possessive = re.search(r"(?:'s|’s|'|’)\s+([a-z]+)$", phrase)
        return f"How much {possessive.group(1)}" if possessive else duration_wh(prep, phrase)
    if kind in {"count", "number"}:
        noun = phrase_noun(phrase, fact)
        if not noun:
            return None
        pied = prep in {"from", "to", "for", "with", "by", "on", "at", "between", "among"}
        return f"{upper_first(prep)} how many {noun}" if pied else f"How many {noun}"
    if kind == "measure":
        dimension = _DIMENSION.search(phrase)  # '25 metres long' -> 'How long'
        return f"How {dimension.group(1).lower()}" if dimension else \
            next((wh for pattern, wh, _ in _UNIT_WH if re.search(pattern, fact.text)), "What")
    if kind in {"phone", "email", "url", "code"}:
        noun = {"phone": "number", "email": "email address", "url": "website"}.get(kind) or code_noun(fact, phrase)
        return f"{upper_first(prep)} which {noun}" if prep else f"Which {noun}"
    if kind == "name":
        if prep in {"to", "with", "from"} and not in_subject and person_name(fact.text) \
                and re.match(rf"\(?{prep}\s+{re.escape(fact.text)}", phrase, re.IGNORECASE):
            return f"{upper_first(prep)} whom"  # 'directed to Harriet Okonkwo' -> 'To whom ... directed?'
        if prep in _PLACE_PREPOSITIONS and not in_subject:
            return "Where"
        return ("Who" if person_like(fact.text) else None) if in_subject else None
    return None


def noun_before(text: str) -> str:
    """The noun phrase that ends ``text``: 'Every Member owns exactly one share' -> 'a share'; none
    after a preposition ('..., at a cost' owns nothing)."""
    words = text.rsplit(",", 1)[-1].split()[-4:]
    if words and words[0].lower() in PREPOSITIONS:
        return ""
    while words and (verb_forms(words[0]) & {"VBZ", "VBD", "VBP"} and not is_noun(words[0])
                     or words[0].lower() in FUNCTION_WORDS - {"a", "an", "the", "one"} or words[0].endswith("ly")):
        words = words[1:]
    if not words or words[-1].lower() in FUNCTION_WORDS or not is_noun(words[-1].strip(",")):
        return ""
    phrase = " ".join(words)
    phrase = re.sub(r"^one\s", "a ", phrase, flags=re.IGNORECASE)
    return lower_first(phrase) if phrase.split()[0].lower() in {"a", "an", "the"} else f"the {lower_first(phrase)}"


def count_noun(text: str, fact: KeyFact) -> tuple[str, str]:
    """The noun a count counts, past adjectives: 'two back-to-back slots' -> 'slots'; and the text up to it."""
    after = text[fact.start + len(fact.text.split(" ")[0]):]
    words = re.findall(r"\s+[\w’'-]+", after)[:3]
    for i, word in enumerate(words):
        bare = word.strip()
        if bare.lower() in FUNCTION_WORDS or bare[:1].isdigit():
            break
        if is_noun(bare) and not (i + 1 < len(words) and is_noun(words[i + 1].strip()) and bare.islower()
                                  and not is_plural_noun(bare)) or bare[:1].isupper():
            name = "".join(words[:i + 1])
            while i + 1 < len(words) and words[i + 1].strip()[:1].isupper() and bare[:1].isupper():
                i += 1
                name = "".join(words[:i + 1])
            if bare[:1].isupper() and not plural_name(name):
                return "", ""  # '41 Tanner's Brow': a house number, not a count
            return name.split()[-1] if not bare[:1].isupper() else name.strip(), name
    return "", ""


def plural_name(name: str) -> bool:
    """Whether a capitalised name can be counted: it ends in a plural ('12 Barrows', not '7 Mill Lane')."""
    last = name.split()[-1]
    return last.endswith("s") and not last.endswith(("'s", "’s"))


def phrase_noun(phrase: str, fact: KeyFact) -> str:
    noun, _ = count_noun(phrase[phrase.find(fact.text):], KeyFact(fact.kind, fact.text, 0, 0, fact.value))
    return noun if noun[:1].isupper() else noun.lower()


def duration_wh(prep: str, phrase: str) -> str:
    if prep in {"every", "each"}:
        return "How often"
    if re.search(r"\d\S*\s+\S+\s+(?:before|ahead|in advance|beforehand)\b", phrase) \
            or prep not in {"within", "in"} and re.search(r"\b(?:before|ahead|in advance|beforehand)\b", phrase):
        return "How far in advance"  # not for 'within 30 days of invoice or before the vessel leaves'
    if prep in {"within", "in"}:
        return "How soon"
    if prep in {"after", "until", "by"} or re.search(r"\d\S*\s+\S+\s+(?:after|from)\s", phrase):
        return "When"  # 'after 6 months', '18 months after they are earned': a point in time
    return "How long"


def code_noun(fact: KeyFact, phrase: str) -> str:
    """What kind of code: 'Form HR-7' -> 'form'; 'Rule 21' -> 'rule'; else 'code'."""
    prefix = re.match(r"([A-Za-z]+)\.?\s", fact.text)
    if prefix and prefix.group(1).lower() != "no":
        return prefix.group(1).lower()
    words = re.findall(r"[A-Za-z]+", phrase[:phrase.find(fact.text)] + fact.text)
    named = next((w for w in words if w[:1].isupper() and is_dictionary_word(w) and w.lower() not in {"no"}), "")
    return named.lower() or "code"


def person_name(name: str) -> bool:
    """A person's name, stricter than ``person_like``: a title, or a last word that is no English word
    ('Harriet Okonkwo', not 'Hatherley Lane Recycling Centre')."""
    words = name.split()
    return person_like(name) and len(words) <= 4 and (
        words[0].lower() in {"mr", "ms", "mrs", "dr", "miss"} or not is_dictionary_word(words[-1].split("-")[0]))


def person_like(name: str) -> bool:
    """'Priya Ashdown-Mbeki', 'Ms Vossberg': capitalised words, one of them not an English word;
    not a company ('Quenfield Digital Ltd')."""
    words = name.split()
    company = bool(words) and words[-1].lower().strip(".") in _COMPANY
    return len(words) >= 2 and all(w[:1].isupper() for w in words) and not company and (
        words[0].lower() in {"mr", "ms", "mrs", "dr"} or any(not is_dictionary_word(w) for w in words))


def wh_question(clause: Clause, fact: KeyFact, facts: list[KeyFact]) -> tuple[str, str] | None:
    """A wh-question about ``fact`` and the words that answer it, or None if it cannot be asked."""
    start, end = fact_phrase(clause.text, fact, facts)
    if end <= clause.main_start:  # in the lead: 'Between 22:00 and 05:30 an on-call supervisor ...'
        return (ask(clause, "When", [(0, clause.main_start)]), clause.lead) if fact.kind in _TEMPORAL else None
    in_subject = clause.subject_start <= start < clause.verb_start and not clause.imperative
    complement = clause.copula and clause.body_start <= start <= clause.body_start + 1
    if fact.kind == "name" and complement:  # 'Our Safety Officer is <Name>'
        return (ask(clause, "Who", [(start, end)]), fact.text) if person_like(fact.text) else None
    wh = wh_word(fact, clause.text[start:end], in_subject, clause.text[:start])
    if wh is None or in_condition(clause, start):
        return None
    if clause.negation and _LIMIT.match(clause.text[start:end]):
        return None  # 'must not be run for more than 10 minutes': 'How long must ... not be run?' misleads
    if complement and fact.kind in {"count", "number", "percent", "code"} \
            and clause.subject.lower() != "there":
        wh = "What"  # "The quorum is 150 Members" -> "What is the quorum?"
    if in_subject:
        return subject_question(clause, fact, wh, (start, end))
    if fact.kind in {"money", "measure", "percent"} and clause.text[start:end].lower().startswith("of "):
        owner = noun_before(clause.text[:start])  # 'one share of €25' -> 'How much is a share?'
        return (finish(f"{wh} is {owner}"), clause.text[start + 3:end]) if owner else None
    if fact.kind == "duration" and "-" in fact.text:  # '30-minute session': how long is the subject?
        return (finish(f"How long is {lower_first(clause.subject)}"), fact.text) if clause.copula else None
    if clause.copula and wh in {"Where", "When"} and start > clause.body_start + 1 and fact.kind == "name":
        return None
    if clause.imperative and not clause.text[clause.lemma_end:start].strip() and not clause.text[end:].strip():
        return None  # 'Welcome to X' -> nothing left to ask about
    stranded = 4 if wh == "How much" and clause.text[start:end].lower().startswith("for ") \
        and not clause.text[end:].lstrip().startswith("of ") else 0
    # 'can subscribe to the scheme for £52' -> 'How much can ... subscribe to the scheme for?'
    return ask(clause, wh, [(start + stranded, end)]), clause.text[start:end]


def subject_question(clause: Clause, fact: KeyFact, wh: str, span: tuple[int, int]) -> tuple[str, str] | None:
    """'Only Level 3 mechanics may open ...' -> 'Which mechanics may open ...'; 'a fee of €20 may be
    charged' -> 'How much is the fee?'."""
    start, end = span
    first_two = clause.subject.lower().split()[:2]
    if first_two[:1] == ["no"] and first_two[1:] not in (["more"], ["fewer"], ["less"]):  # 'No more than 12': a limit
        return None  # 'No single item over 32 kg will be accepted': 'Which item will be accepted?' says the opposite
    if re.search(r"\b(?:who|which|that|whose)\b", clause.text[clause.subject_start:start]):
        head = described_head(clause, start)  # 'Employees who travel more than four times a year can ...'
        return which_question(clause, head) if head else None
    named = clause.text[clause.subject_start:start].strip()
    if fact.kind == "name" and named.lower() not in _BEFORE_A_NAME and not named.endswith(","):
        return None  # 'The crossing from Port Aveline takes ...': no 'Who' (but 'The Manager, Mr Colm Ash, is ...')
    if fact.kind in {"count", "name"} and wh != "How old":  # an age describes the subject: 'Which children ...?'
        return ask_subject(clause, wh), clause.subject
    before, value = clause.text[clause.subject_start:start].strip(), clause.text[start:end]
    if value.lower().startswith("of "):  # the span took the preposition: 'A joining fee| of £20'
        before, value = f"{before} of", value[3:]
    every = before.lower().split()[:1] in (["every"], ["each"], ["any"], ["all"])  # "Every shift of 6 hours or more"
    if fact.kind in {"money", "measure", "percent", "duration"} and before.lower().endswith(" of") and not every:
        noun = re.sub(r"^(?:a|an|any|each|every)\s+", "the ", lower_first(before[:-3]), flags=re.IGNORECASE)
        lead = f" {lower_first(clause.lead)}" if clause.lead and not _POINTING.search(clause.lead) else ""
        return finish(f"{wh} is {noun}{lead}"), value
    if fact.kind == "code":
        noun = clause.text[end:clause.verb_start].strip().split(" ")[0] if end < clause.verb_start else ""
        return (ask_subject(clause, f"Which {noun}"), clause.subject) if noun.islower() and noun else None
    head = described_head(clause, start)
    return which_question(clause, head) if head else None


def described_head(clause: Clause, fact_start: int) -> str:
    """The noun a subject's description is about, when the fact is in that description: 'Claims
    submitted after 90 days' -> 'claims' ('Which claims are rejected?'); '' otherwise, and for a
    subject that is a name, a list or a fragment ('Up to two children', 'For example ...')."""
    words = clause.subject.split()
    if "," in clause.subject:
        return ""
    for i, word in enumerate(words[1:], start=1):
        modifier = word.lower() in PREPOSITIONS | {"who", "which", "that", "whose"} \
            or "VBN" in verb_forms(word) and not is_noun(word) or word.endswith("ing")
        if modifier:
            head = [w for w in words[:i] if w.lower() not in DETERMINERS]
            common = head and all(w[1:].islower() and w.lower() not in FUNCTION_WORDS | PREPOSITIONS | {"up"}
                                  and not w.endswith("ing") for w in head) and is_noun(head[-1])
            described = clause.subject_start + len(" ".join(words[:i])) <= fact_start
            return lower_first(" ".join(head)) if described and common else ""
    return ""


def which_question(clause: Clause, head: str) -> tuple[str, str] | None:
    """'Which claims are rejected?' (the predicate up to a second clause joined by 'and'), answered
    by the subject; None when nothing follows the verb ('The charges for 2025/26 are:')."""
    question = ask_subject(clause, f"Which {head}").rstrip("?")
    question = re.split(r"\s(?:and|or)\s+(?=(?:the|a|an|my|your|its|their|it|they|I|you|we)\b)", question)[0]
    predicate = question[len(f"Which {head}"):].split()
    return (finish(question), clause.subject) if len(predicate) >= 2 else None


def alternative(clause: Clause, ranked: list[KeyFact], facts: list[KeyFact]) -> tuple[str, str] | None:
    """The first fact asked a second way: 'What time' <-> 'When', 'How long' -> 'How many hours' ..."""
    for fact in ranked[:2]:
        start, end = fact_phrase(clause.text, fact, facts)
        if end <= clause.main_start or clause.subject_start <= start < clause.verb_start and not clause.imperative \
                or in_condition(clause, start):
            continue
        members = enumeration(clause, fact, facts)
        if members:
            return next(iter(member_questions(clause, members, facts, second=True)), None)
        phrase = clause.text[start:end]
        if clause.negation and _LIMIT.match(phrase):
            continue  # as in ``wh_question``
        first = wh_word(fact, phrase, False, clause.text[:start])
        wh = second_wh(first, fact, clause, phrase)
        if wh:
            return ask(clause, wh, [(start, end)]), phrase
    return None


def second_wh(first: str | None, fact: KeyFact, clause: Clause, phrase: str = "") -> str | None:
    if fact.kind == "measure" and first in _DIMENSION_NOUNS:
        return _DIMENSION_NOUNS[first]  # 'How long is the pool?' -> 'What length is the pool?'
    unit = re.sub(r"^\S+[\s-]", "", fact.text).rstrip("s") + "s" if fact.kind == "duration" else ""
    if fact.kind == "duration" and first and first.startswith("How much "):
        return f"How many {unit}' {first.split()[-1]}"  # "How many weeks' notice ...?"
    if first == "How much":
        return "What" if clause.copula or clause.lemma in {"cost", "charge", "pay", "earn", "receive", "get"} else None
    swaps = {"What time": "When", "How long": f"How many {unit}", "How soon": f"Within how many {unit}",
             "How far in advance": f"How many {unit} in advance", "How often": "How frequently",
             "What percentage": "How much", "How old": "At what age"}
    if first == "When" and fact.kind == "date" and "," not in phrase and _DATE_RANGE.search(phrase):
        return "Between which dates"  # 'from 1 April to 30 September', not a list of dates
    if first == "When":
        return {"time": "What time", "date": "On what date", "day": "On which days", "year": "In which year",
                "duration": None if re.match(rf"\(?{_PREPOSITION}\s", phrase, re.IGNORECASE)
                else f"How many {unit}"}.get(fact.kind)
    if first in swaps:
        return swaps[first]
    return next((alt for pattern, wh, alt in _UNIT_WH if wh == first), None)
