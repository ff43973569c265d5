"""Questions from the shape of a statement rather than from one fact in it.

    shape_questions(clause, statement.text)   # [(question, direct answer), ...]

- rules ("must", "may", "cannot", instructions): a yes/no question, answered "Yes." / "No." /
  "No, unless ..." / "Yes, only ...";
- conditions ("If the box is dirty, a fee is charged"): "What happens if the box is dirty?";
- definitions ("A Barrow Bay is a covered parking area ..."): "What is a Barrow Bay?" and
  "What is a covered parking area ... called?";
- what a verb takes ("All prices include VAT"): "What do all prices include?";
- who does it ("Hours are recorded by the session leader"): "Who records hours?";
- roles ("the Fleet Lead, Priya Ashdown-Mbeki,"): "Who is the Fleet Lead?";
- "label: value" lines ("Customer Desk: 12 Ropewalk Lane") and table rows, one lookup per cell.
"""

import dataclasses
import re

from ..facts import Statement, key_facts, names_days
from ..facts.words import (ADVERBS, AUXILIARIES, DETERMINERS, FUNCTION_WORDS, MODALS, NEGATIONS, PREPOSITIONS,
                           SUBORDINATORS, base_verb, inflect_verb, is_base_verb, is_dictionary_word, is_noun,
                           is_plural_noun, lemmas, lower_first, upper_first, verb_forms)
from .asking import person_like, person_name
from .clauses import Clause, ask_yes_no, cut_tail, finish, parse_clause, plural, user_voice

_LISTED_SUBJECT = re.compile(r"^(?:the |our |your )?([a-z][a-z -]{2,40}?)(?: (?:for|in|from) [^,:]*)?(?:, [^:]*)? "
                             r"(?:are|is):?$", re.IGNORECASE)
_SINGULAR_AUX = {"do": "does", "are": "is", "were": "was", "have": "has"}  # 'What does not need an induction?'
_PEOPLE = frozenset("people person persons anyone everyone someone staff member members customer customers resident "
                    "residents tenant tenants leaseholder leaseholders rider riders employee employees worker workers "
                    "volunteer volunteers student students patient patients visitor visitors user users owner owners "
                    "manager managers agent agents applicant applicants parent parents child children adult adults "
                    "officer officers mechanic mechanics holder holders subscriber subscribers crew crews driver "
                    "drivers guest guests client clients contractor contractors".split())  # 'Who can register?'
_NOT_ASKED_SUBJECTS = {"i", "you", "we", "they", "it", "he", "she", "this", "that", "these", "those", "there", "who",
                       "everyone", "anyone", "someone", "nobody", "no one"}
_ABOUT_LABEL = re.compile(r"(?i)(?:questions|queries|enquiries|problems|complaints|concerns)\b")
_DOCUMENT_SUBJECT = re.compile(r"(?i)(?:the|this) (?:handbook|policy|guide|document|agreement|sla|schedule|terms)$")
_ROLE = re.compile(r"\b(?:[Tt]he |[Oo]ur |[Yy]our )?((?:[A-Z][\w’'-]+ (?:of )?)*[A-Z][\w’'-]+), "
                   r"((?:[A-Z][\w’'-]+ ){1,3}[A-Z][\w’'-]+)(?=\s*[(,.;]|$)")
_PERSON = r"(?:(?:Mr|Ms|Mrs|Dr|Miss) )?[A-Z][\w’'-]+(?: [A-Z][\w’'-]+){1,2}"
_NAME_ROLE = re.compile(rf"\b({_PERSON}), ((?:[A-Z][\w’'-]+ (?:of )?){{0,3}}[A-Z][\w’'-]+)(?=\s*[(,.;]|$)")
_ROLE_NAME = re.compile(rf"\b((?:[A-Z][\w’'-]+ ){{1,3}})({_PERSON})(?=\s*[(,.;]|$)")  # 'HR Advisor Tomasz W'
_LABEL = re.compile(r"^([A-Z0-9][^:]{1,80}?)(?:\s*\([^)]*\))?:\s+(.+)$")
_DASHED = re.compile(r"^([A-Z][^—–]{1,40}?)(?:\s*\([^)]*\))?\s+[—–]\s+(.+)$")
_OBJECT_END = (r"\s(?:that|which|who|to|for|in|at|on|with|by|from|before|after|when|if|until|during|as|because|so"
               r"|within|under)\b|\sand (?:is|are|was|were|will|can|may|must|has|have)\b")
_OBJECT = re.compile(rf"\s*((?:[^,;:]|[,:](?=\d))*?)(?={_OBJECT_END}|[,;:]|$)")
_ITEM = r"[\w’'-]+(?: [\w’'-]+){0,5}?"
_LISTED_OBJECT = re.compile(rf"\s*({_ITEM}(?:, {_ITEM})+,? (?:and|or) {_ITEM})(?={_OBJECT_END}|[.;:]|, (?!{_ITEM},)|$)")
_MAX_OBJECT_WORDS = 10
_OBJECT_PRONOUNS = frozenset("you us them it him her me".split())  # 'visits you at home': nothing to ask
_MAX_LIST_WORDS = 25
_PERSON_NOUN = re.compile(r"(?:er|or|ist|ant|ent|ian|eer)s?$")
_MAX_LABEL_WORDS = 8
_MAX_LISTED_LABEL_WORDS = 12  # an item after a lead-in: 'less than 48 hours but not less than 2 hours before departure'
_CLAUSE_HEADERS = frozenset("when where who what which why how if whether ask see".split())
RULE_MODALS = frozenset({"must", "may", "can", "cannot", "should", "shall"})


def shape_questions(clause: Clause, text: str) -> list[tuple[str, str]]:
    return (rule_questions(clause) + definition_questions(clause) + object_questions(clause)
            + agent_questions(clause) + subject_rule_questions(clause) + purpose_questions(clause)
            + role_questions(text))


def purpose_questions(clause: Clause) -> list[tuple[str, str]]:
    """What is needed for what: "You'll need a valid library card to use the Workshop" -> 'What do I
    need to use the Workshop?' -> 'A valid library card'."""
    verb, rest = clause.lemma, clause.text[clause.lemma_end:]
    if not verb:  # 'You will need ...': 'need' read as an auxiliary
        verb, _, rest = clause.text[clause.body_start:].strip().partition(" ")
        verb, rest = base_verb(verb) or "", f" {rest}"
    if verb not in {"need", "require"} or clause.negation or clause.imperative:
        return []
    match = re.match(r"\s+((?:an?|the|your|their|some|proof|two|one)\b[^,;:]*?)\s+(?:in order )?to\s+([a-z]+)\b"
                     r"([^,;]*)", rest)
    if not match or len(match.group(1).split()) > 8 or not is_base_verb(match.group(2)):
        return []
    subject = lower_first(clause.subject) if clause.subject not in {"I"} else "I"
    does = "do" if subject.lower() in {"you", "i", "we", "they"} or plural(subject) else "does"
    purpose = f"{match.group(2)}{match.group(3)}".strip()
    return [(finish(user_voice(f"What {does} {subject} {verb} to {purpose}")), upper_first(match.group(1)))]


def subject_rule_questions(clause: Clause) -> list[tuple[str, str]]:
    """What a rule is about, asked for: 'PVC and anything containing chlorine cannot go in the laser
    cutter' -> 'What cannot go in the laser cutter?'; 'Barbecues are not permitted on the pontoons'
    -> 'What is not permitted on the pontoons?'."""
    subject = re.sub(r",\s*(?:on the other hand|however|though|therefore|in particular)$", "", clause.subject)
    named = [w.lower() for w in re.findall(r"[\w’'-]+", subject)]
    if clause.imperative or clause.lead or not (clause.negation or clause.aux in MODALS) or not named \
            or " ".join(named) in _NOT_ASKED_SUBJECTS or named[0] in SUBORDINATORS or len(named) > 10 \
            or _DOCUMENT_SUBJECT.match(subject) \
            or set(named) & {"you", "we", "i", "they", "following"} \
            or any(verb_forms(w) & {"VBZ", "VBD"} and not is_noun(w) for w in named[1:]) \
            or any(f.kind not in {"name", "code"} for f in key_facts(subject)):
        return []  # a figure in the subject is asked by its own question; 'A Member asked why ...' is misread
    start = min(clause.verb_start, clause.negation[0]) if clause.negation else clause.verb_start  # 'never sells'
    predicate = re.split(r"[,;:]|\s(?:if|unless|when|until|because|so that|but)\s|\s(?:and|or)\s(?=(?:can|cannot|must|"
                         r"may|will|is|are|do|does)\b)", clause.text[start:])[0]
    if clause.text[start + len(predicate):].startswith(":"):
        return []  # 'A Support Team Lead must call back:' the list says when
    words = predicate.split()
    verb = next((i for i, w in enumerate(words) if w.lower() not in ADVERBS | NEGATIONS), None)
    if verb is not None and words[verb].lower() not in AUXILIARIES and "VBP" in verb_forms(words[verb]):
        words[verb] = inflect_verb(base_verb(words[verb]) or words[verb], "VBZ")  # 'riders never pay' -> 'never pays'
    content = [w for w in words[1:] if w.lower() not in AUXILIARIES | NEGATIONS | ADVERBS]
    if not 2 <= len(words) <= 12 or not content or {w.lower() for w in words} & (_OBJECT_PRONOUNS | {"this", "that"}) \
            or any(verb_forms(w) & {"VBZ", "VBD"} and not is_noun(w) for w in content[1:]):
        return []  # 'may do this', 'are not', 'may register depends on': nothing to ask, or a misread clause
    words[0] = _SINGULAR_AUX.get(words[0].lower(), words[0].lower())
    wh = "Who" if "who" in named or set(named) & _PEOPLE else "What"
    return [(finish(f"{wh} {' '.join(words)}"), upper_first(subject))]


def definition_questions(clause: Clause) -> list[tuple[str, str]]:
    """'A Barrow Bay is a covered ... area' -> 'What is a Barrow Bay?', 'What is a covered ... area called?'."""
    predicate = clause.text[clause.body_start:].strip()
    subject = lower_first(clause.subject.strip("\"“”'‘’ "))
    if clause.lemma == "mean" and len(subject.split()) <= 6:
        return [(finish(f"What does {subject} mean"), predicate[len("means"):].strip())]
    if not clause.copula or clause.negation or clause.lead or not re.match(r"(?:an?|the)\s+\w", predicate) \
            or len(subject.split()) > 6 or subject.lower() in {"it", "this", "that", "there", "they", "these"}:
        return []
    head = cut_tail(re.split(r"\s(?:that|which|who|where|whose)\s|[;:]|, (?:which|who)\b", predicate)[0])
    head = re.sub(r"\s*\([^)]*\)", "", head)
    out = [(finish(f"What {clause.aux} {subject}"), predicate)]
    if 3 <= len(head.split()) <= 12:
        out.append((finish(f"What {clause.aux} {head} called"), clause.subject))
    return out


def object_questions(clause: Clause) -> list[tuple[str, str]]:
    """'All prices include VAT' -> 'What do all prices include?'; a list is the object whole: 'The blue
    bin takes paper, card and cans' -> 'What does the blue bin take?' -> 'Paper, card and cans'."""
    if not clause.lemma or clause.imperative or clause.negation or clause.lemma in {"be", "do", "mean", "refer"}:
        return []  # a definition is asked by ``definition_questions``
    listed = listed_object(clause.text[clause.lemma_end:])
    match = listed or _OBJECT.match(clause.text[clause.lemma_end:])
    obj = match.group(1).strip() if match else ""
    if not obj or len(obj.split()) > (_MAX_LIST_WORDS if listed else _MAX_OBJECT_WORDS) \
            or obj.split()[0].lower() in PREPOSITIONS | _OBJECT_PRONOUNS | {"up", "out", "back"} \
            or any(f.kind not in {"name", "code"} for f in key_facts(obj)):
        return []  # a figure is asked by its own wh-question
    rest = re.split(r",|\sand\s", clause.text[clause.lemma_end + match.end():])[0]
    rest = "" if re.match(r"\s*(?:that|which|who)\b", rest) else rest
    question = f"What {clause.aux} {lower_first(clause.subject)} {clause.pre_verb} {clause.lemma} {cut_tail(rest)}"
    return [(finish(question), obj)]


def listed_object(text: str) -> re.Match | None:
    """The list a verb takes ('paper, card, cans and glass'), not a run of verb phrases ('the
    communal areas, check the lighting and ...': an item that is a verb before 'the')."""
    match = _LISTED_OBJECT.match(text)
    if not match:
        return None
    items = re.split(r",\s*(?:and\s|or\s)?|\s(?:and|or)\s", match.group(1))
    verb_led = any(len(item.split()) > 1 and item.split()[1].lower() in DETERMINERS for item in items[1:])
    return None if verb_led else match


def agent_questions(clause: Clause) -> list[tuple[str, str]]:
    """'Hours are recorded by the session leader in the Hub' -> 'Who records hours in the Hub?'."""
    words = clause.text[clause.body_start:].split()
    if not clause.copula or not words or "VBN" not in verb_forms(words[0]):
        return []
    match = re.search(r"\bby ((?:the |a |an |our |your )?[\w’'-]+(?: [\w’'-]+){0,3}?)(?=\s(?:in|at|on|within|for|"
                      r"before|after|when|and)\b|[,;.]|$)", clause.text[clause.body_start:])
    if not match or not (re.search(r"\b[A-Z]", match.group(1)) or _PERSON_NOUN.search(match.group(1))):
        return []
    verb = inflect_verb(base_verb(words[0]) or words[0], "VBD" if clause.aux in {"was", "were"} else "VBZ")
    after = clause.text[clause.body_start + match.end():].split(",")[0]
    return [(finish(f"Who {verb} {lower_first(clause.subject)} {cut_tail(after)}"), match.group(1))]


def fragment_clause(text: str, subject: str) -> Clause | None:
    """'Approved by the Board on 14 March 2024.' reads as '<subject> was approved by the Board on ...'."""
    words = text.split()
    if len(words) < 3 or not words[0][:1].isupper() or "VBN" not in verb_forms(words[0]) \
            or words[0].lower() in AUXILIARIES or words[1].lower() not in PREPOSITIONS:
        return None
    body = lower_first(text).rstrip(".")
    return Clause(text=body, subject=subject, aux="was", subject_start=len(body), verb_start=0, body_start=0)


def rule_questions(clause: Clause) -> list[tuple[str, str]]:
    """Yes/no for rules ('Can Monthly Passes be paused?' -> 'No.'), 'What happens if ...?' for conditions."""
    out = []
    obliged = re.match(r"\s*(?:need|have|are required|is required) to\b", clause.text[clause.body_start:])
    participle = (clause.text[clause.body_start:].split() or [""])[0].strip(",.")
    passive = clause.copula and "VBN" in verb_forms(participle) and not is_noun(participle)  # 'is included'
    rule = clause.aux in RULE_MODALS or clause.negation or clause.imperative or obliged or passive
    none = re.match(r"(?i)no\s+|nobody\b", clause.subject)  # 'no fee is charged' -> 'Is any fee charged?' -> 'No.'
    if rule:
        tail = re.search(r"\b(only|unless|except)\b[^,;]*", clause.text[clause.body_start:])
        removal = [(clause.body_start + tail.start(), clause.body_start + tail.end())] if tail else []
        qualifier = tail.group(0) if tail else ""
        anyone = re.sub(r"(?i)^(?:no one|nobody)\b", "anyone", clause.subject)
        asked = dataclasses.replace(clause, subject=anyone if anyone != clause.subject
                                    else f"any {clause.subject[none.end():]}") if none else clause
        if clause.negation or none:
            direct = f"No, {qualifier}" if tail and tail.group(1) != "only" else "No."
        else:
            direct = f"Yes, {qualifier}" if tail else "Yes."
        out.append((ask_yes_no(asked, removal), direct))
    if clause.condition and clause.lead and any(w.lower() in AUXILIARIES or verb_forms(w) & {"VBZ", "VBD", "VBP"}
                                                for w in clause.lead.split()[1:]):  # not 'Where a child, ...'
        main = cut_tail(clause.text[clause.main_start:])
        lead = re.sub(r"^(?i:where|in cases where|in the event that)\s", "if ", clause.lead)  # 'Where a date falls'
        out.append((finish(f"What happens {lower_first(lead)}"), upper_first(main.strip())))  # the document speaks
    return out


def role_questions(text: str, strict: bool = False) -> list[tuple[str, str]]:
    """'the Fleet Lead, Priya Ashdown-Mbeki,' / 'Harriet Okonkwo, Payroll Manager' / 'HR Advisor
    Tomasz Wiśniewski' -> 'Who is the Fleet Lead?' (the Payroll Manager, the HR Advisor); an email
    address in brackets after the name -> 'What is the email address of the Payroll Manager?'.
    ``strict`` (a line without a verb, such as an address): only a clear person's name counts
    ('Jo Whitlock, Head Nurse', not 'Income Team, Hollin Vale House')."""
    out = []
    is_person = person_name if strict else person_like
    for pattern, role_group in ((_ROLE, 1), (_NAME_ROLE, 2), (_ROLE_NAME, 1)):
        for match in pattern.finditer(text):
            role, name = match.group(role_group).strip(), match.group(3 - role_group)
            if is_person(name) and is_role(role):
                out.append((f"Who is the {role}?", name))
                email = re.match(r"\s*\(([^()\s]+@[^()\s]+)\)", text[match.end():])
                out += [(f"What is the email address of the {role}?", email.group(1))] if email else []
    return out


def is_role(words: str) -> bool:
    """'Payroll Manager', 'Head of People', 'HR Advisor': capitalised words of the dictionary (or an
    acronym), 'of' between them."""
    parts = words.split()
    return 0 < len(parts) <= 4 and parts[-1][:1].isupper() and all(
        w == "of" or w[:1].isupper() and (is_dictionary_word(w) or re.fullmatch(r"[A-Z]{2,4}", w)) for w in parts) \
        and not all(re.fullmatch(r"[A-Z]{2,4}", w) for w in parts)


def label_value(statement: Statement) -> tuple[str, str, Statement] | None:
    """'Customer Desk: Saltmarket Depot, ...' -> ('Customer Desk', 'Saltmarket Depot, ...'); a listed
    'Sunday working: time and three-quarters' after a lead-in ('... at these rates:') too."""
    if statement.kind not in {"line", "item", "sentence"}:
        return None
    lead = statement.lead_in.rstrip(":").rstrip()
    if statement.lead_in and not statement.text.startswith(f"{lead}: "):
        return None
    text = statement.text[len(lead) + 2:] if statement.lead_in else statement.text
    match = _LABEL.match(upper_first(text)) if statement.lead_in else _LABEL.match(text) or _DASHED.match(text)
    most_words, most_chars = (_MAX_LISTED_LABEL_WORDS, 80) if statement.lead_in else (_MAX_LABEL_WORDS, 60)
    if not match or len(match.group(1).split()) > most_words or len(match.group(1)) > most_chars \
            or not statement.lead_in and not match.group(1)[:1].isalpha() \
            or any(w.lower() in AUXILIARIES for w in match.group(1).split()) \
            or match.group(1).split()[0].lower() in {"you", "we", "i", "they", "it"}:  # 'You only pay for materials:'
        return None
    if match.re is _DASHED and not any(f.kind == "name" and f.start == 0 for f in statement.facts):
        return None
    label = match.group(1).strip() if not statement.lead_in else text[:len(match.group(1).strip())]
    return label, match.group(2).rstrip("."), statement


def lead_noun(lead_in: str) -> str:
    """What a lead-in says its items give: 'Overtime is paid at the following rates:' -> 'rate'."""
    subject = _LISTED_SUBJECT.match(lead_in.strip())  # 'Average weekly rents for 2025/26 are:' -> 'average weekly rent'
    words = re.findall(r"[A-Za-z]+", subject.group(1) if subject else lead_in)
    if not words or not is_noun(words[-1]) or words[-1].lower() in FUNCTION_WORDS | {"follows", "following"}:
        return ""
    if subject:
        return " ".join([lower_first(" ".join(words[:-1])), *(lemmas(words[-1].lower()).get("NOUN") or [words[-1]])[:1]
                         ]).strip()
    term = re.search(r"(?:[A-Z][a-z]+ )*[A-Z][a-z]+$", " ".join(words))  # 'the following Monthly Uptime Percentage'
    if term and term.group(0) != words[0] and " " in term.group(0):
        return term.group(0)
    return (lemmas(words[-1].lower()).get("NOUN") or [words[-1].lower()])[0]


def parse_lead(lead_in: str) -> str:
    """The subject of a lead-in sentence, when it is a short noun phrase ('Entitlement', 'the fee')."""
    clause = parse_clause(lead_in.rstrip(":")) if lead_in else None
    subject = re.sub(r"^(?i:the|your|our)\s+", "", clause.subject) if clause and not clause.imperative \
        and not clause.lead else ""  # not 'If the uptime falls below ..., the customer may claim ... as follows:'
    words = subject.split()
    return lower_first(subject) if 0 < len(words) <= 4 and words[0].lower() not in _NOT_ASKED_SUBJECTS \
        and is_noun(words[-1]) else ""


def lead_condition(lead_in: str) -> str:
    """The condition a lead-in opens with, without its 'if/where/when': 'Where a passenger cancels a
    booking, the fare shall be refunded as follows:' -> 'a passenger cancels a booking'; else ''."""
    clause = parse_clause(lead_in.rstrip(":")) if lead_in else None
    words = clause.lead.split(None, 1) if clause and clause.condition else []
    return words[1] if len(words) == 2 and words[0].lower() in {"if", "where", "when", "whenever"} else ""


def label_questions(label: str, value: str, statement: Statement) -> list[tuple[str, str]]:
    listed = lead_noun(statement.lead_in) if statement.lead_in else ""
    if listed:  # 'What is the rate for Sunday working?'
        how = "How much is" if any(f.kind == "money" for f in key_facts(value)) else "What is"
        return [(f"{how} the {listed} for {label}?", value), (f"What {listed} applies to {label}?", value)]
    lead = parse_lead(statement.lead_in)
    if lead:  # 'Entitlement increases with service as follows:' + 'less than 2 years: 25 days'
        return [(f"What is the {lead} for {label}?", value)]
    condition = lead_condition(statement.lead_in)
    if condition:  # 'Where a passenger cancels, the fare is refunded as follows:' + '48 hours or more before: 90%'
        return [(f"What happens if {condition} {lower_first(label)}?", value)]
    kinds = {f.kind for f in key_facts(value)}
    named = label.split()[0].lower() in {"the", "a", "an"} or person_like(label)  # no 'the' before a person
    noun = label if named else f"the {lower_first(label)}"
    if "phone" in kinds and _ABOUT_LABEL.match(label):  # 'Questions about this schedule: accounts office (01752 ...)'
        questions = [f"Which number do I call with {lower_first(label)}?", f"Who do I call with {lower_first(label)}?"]
    elif "phone" in kinds:
        questions = [f"What is the phone number of {noun}?", f"Which number do I call for {noun}?"]
    elif "email" in kinds:
        questions = [f"What is the email address for {lower_first(label)}?",
                     f"Who do I email about {lower_first(label)}?"]
    elif "name" in kinds and person_like(value.split(",")[0]):
        questions = [f"Who is {noun}?", f"What is the name of {noun}?"]
    elif "code" in kinds and "," in value and any(f.kind == "name" and f.start == 0 for f in key_facts(value)):
        # an address: 'Head office: Quenfield Digital Ltd, 7 Carrow Mews, Oszmere OZ4 2HT'
        questions = [f"Where is {noun}?", f"What is the address of {noun}?"]
    elif kinds & {"count", "number"}:
        count = next(f for f in key_facts(value) if f.kind in {"count", "number"})
        noun = count.text.split(" ", 1)[1] if " " in count.text else ""
        questions = [f"How many {lower_first(noun)} for {label}?", f"What was the number of {lower_first(noun)} for "
                     f"{label}?"] if noun and person_like(label) else \
            [f"What is the number of {lower_first(label)}?", f"How many {lower_first(label)} were there?"]
    elif kinds & {"date", "year"} and "VBN" in verb_forms(label.split()[-1]):  # 'Last reviewed: March 2026'
        label = lower_first(label)
        questions = [f"When was the document {label}?", f"What date was the document {label}?"]
    elif kinds & {"time", "day"}:
        questions = [f"What are the hours of {noun}?", f"When is {noun} open?"]
    elif "money" in kinds:
        many = is_plural_noun(label.split()[-1]) and is_noun(label.split()[-1])  # 'two-bedroom houses'
        questions = [f"How much {'are' if many else 'is'} {noun}?", f"What {'do' if many else 'does'} {noun} cost?"]
    elif kinds & {"code", "name"}:
        questions = [f"Where is {noun}?", f"What is the address of {noun}?"]
    else:
        questions = [f"What is {noun}?"]
    return [(q, value) for q in questions]


def row_questions(statement: Statement) -> list[tuple[str, str]]:
    """A lookup per cell, cells in turn, so that a cap keeps every column: 'How much is the Day Pass?'."""
    row = statement.row or {}
    key, cells = row.get("key", ""), row.get("cells", [])
    heading = statement.context[-1] if statement.context else ""
    per_cell = [day_questions(key, key, column, value) if names_days(column)
                else day_questions(day_place(column, heading, len(cells)), column, key, value) if names_days(key)
                else cell_questions(key, column, value) for column, value in cells]
    out = []
    for variant in range(max((len(q) for q in per_cell), default=0)):
        out.extend(qs[variant] for qs in per_cell if variant < len(qs))
    return out


def day_place(column: str, heading: str, columns: int) -> str:
    """Whose hours a column of a row keyed by a day gives: the column's own name when the row has
    several ('Fuel dock' beside 'Marina office'), else the section's heading ('Opening hours')."""
    generic = re.fullmatch(r"(?i)(?:opening\s+)?(?:hours|times|open|value)", column.strip())
    return column if columns > 1 and not generic or not heading else heading


def day_questions(place: str, thing: str, day: str, value: str) -> list[tuple[str, str]]:
    """A table of days. Times are hours of the place ('Reception' | 'Saturday' | '9am–1pm' -> 'What
    are the reception hours on Saturday?'); anything else is the column's thing on that day."""
    if not ({f.kind for f in key_facts(value)} & {"time", "duration"} or value.lower() == "closed"):
        return [(q, value) for q in (f"What is the {lower_first(thing)} on {day}?",
                                     f"Which {lower_first(thing)} is on {day}?")]
    place = lower_first(place)
    hours = place if re.search(r"\b(?:hours|times)$", place) else f"{place} hours"
    opens = re.sub(r"\s*\b(?:opening |open )?(?:hours|times)$", "", place)
    opens = f"the {opens}" if opens[:1].islower() and opens.split()[0] not in DETERMINERS else opens
    questions = [f"What are the {hours} on {day}?"] + ([f"When is {opens} open on {day}?"] if opens else [])
    return [(q, value) for q in questions]


def cell_questions(key: str, column: str, value: str) -> list[tuple[str, str]]:
    """Questions asking a table row (``key``) for one cell; a possessive heading ('Our target') is asked without it."""
    col = re.sub(r"^(?:our|your|my|their|its)\s+", "", lower_first(column), flags=re.IGNORECASE)
    verb = "are" if col.endswith("s") and not col.endswith("ss") else "is"
    kinds = {f.kind for f in key_facts(value)}
    if column.split() and column.split()[0].lower() in _CLAUSE_HEADERS:
        return []  # 'When it applies': not a noun to ask for; the row's answer still states it
    words = col.split()
    if len(words) > 1 and "VBN" in verb_forms(words[0]) and not is_noun(words[0]) and words[1] in PREPOSITIONS:
        return [(f"What is {col} for {key}?", value)]  # 'Repaired by the Association': not a noun either
    if "money" in kinds:
        questions = [f"How much is the {key}?" if len(col.split()) == 1 else f"How much is the {col} for {key}?",
                     f"What is the {col} for {key}?", f"What does {key} cost?"]
    elif "name" in kinds and person_like(value.split(",")[0]):
        if col.endswith(" by"):
            questions = [f"Who is {lower_first(key)} {col}?", f"Which person is {lower_first(key)} {col}?"]
        elif all(w[:1].isupper() for w in key.split()):
            questions = [f"Who is the {key}?", f"What is the name of the {key}?"]
        else:
            questions = [f"Who is the {col} for {lower_first(key)}?", f"What is the {col} for {lower_first(key)}?"]
    elif kinds & {"count", "number"} and col.endswith("s"):
        questions = [f"How many {col} does {key} have?", f"What is the number of {col} for {key}?"]
    elif kinds & {"time", "day"}:
        questions = [f"What {verb} the {col} for {key}?", f"When is {key}?"]
    else:
        questions = [f"What {verb} the {col} for {key}?", f"What {col} does {key} have?"]
    return [(q, value) for q in questions]
