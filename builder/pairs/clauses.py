"""Read one statement as [lead,] subject + verb + rest, and re-order it into questions.

    clause = parse_clause("A Barrow booking costs €6.00 per 3-hour slot.")
    clause.subject, clause.aux         # 'A Barrow booking', 'does' (do-support for 'costs')
    span = (clause.text.index("€6.00"), len(clause.text))
    ask(clause, "How much", [span])    # 'How much does a Barrow booking cost?'

No parser model: the verb is found with closed word lists (auxiliaries, determiners,
prepositions) and lemminflect's lexicon (``builder.facts.words``). A leading adjunct ("Under
the Workplace Scheme", "If the box is dirty") is split off at its comma, or where a new noun
phrase starts. Instructions ("Phone the desk ...") read as "I should ...". ``parse_clause``
returns None when it cannot find a subject and a verb; callers then use plainer questions.
"""

import re
from dataclasses import dataclass

from ..facts.keyfacts import NUMBER_WORDS
from ..facts.words import (ADVERBS, AUXILIARIES, DETERMINERS, FUNCTION_WORDS, MODALS, NEGATIONS, PARTICLES,
                           PREPOSITIONS, PRONOUNS, SUBORDINATORS, base_verb, expand_contractions, is_adjective,
                           is_base_verb, is_noun, is_plural_noun, lower_first, upper_first, verb_forms)

BE = frozenset("is are was were am".split())
_CONDITIONS = frozenset("if when whenever unless once where".split())
_WORD = re.compile(r"[^\s()\[\]“”\"]+")
CLAUSE_BREAK = re.compile(r";|:(?=\s|$)|\s[—–]\s|, (?:of )?which\b|,? (?:and|or) which\b|, so\b|,? because\b"
                          r"|, for example\b|, e\.g\.|, but\b|, whereas\b|, although\b"
                  r"|, (?:\w+ ){0,2}\w+ing\b"
                  r"|, (?:with|without|including|except|plus|whichever|whether|while|unless|as)\b"
                  r"|, (?:and|or) (?=(?:the|a|an|its|their|your|it|they|you|we|he|she|this|these|no|all|every|each)\b)")
_LEAD_WORDS = SUBORDINATORS | PREPOSITIONS | {"to", "unlike", "like", "despite", "besides", "following", "regarding",
                                               "throughout", "upon", "towards", "toward", "outside", "inside"}
_LEAD_PHRASE = re.compile(r"(?i)(?:subject to|in that case)\b")  # 'Subject to clause 3.2, no refunds ...'
_SENTENCE_ADVERBS = frozenset("otherwise however instead alternatively meanwhile thereafter afterwards "
                               "subsequently".split())  # a lead of one word
_RELATIVES = frozenset("who which that".split())
_IRREGULAR_PLURALS = frozenset("children people men women police feet teeth mice geese".split())
_AGE_WORDS = frozenset("or and to under over between years old".split())
_CLAUSE_PRONOUNS = frozenset("it they he she you we i".split())  # after 'after', 'when': a clause, not a phrase
_CLAUSE_STOPS = SUBORDINATORS | _RELATIVES | PRONOUNS | {"whose", "and", "or", "but", "nor"}
_EXAMPLES = re.compile(r"\b(?:such as|including|like|e\.g\.|for example)\s", re.IGNORECASE)
# a verb whose object 'you' is the asker: 'lets you pay' -> 'let me pay'
_OBJECT_VERBS = frozenset("let allow help make ask tell remind require expect want invite encourage advise permit "
                          "enable contact send give show charge email call".split())
_REPLY = re.compile(r"^(?:yes|no)(?:[.,!]|\s+[-–—])\s+", re.IGNORECASE)  # 'Yes, ...', 'No - ...'
_MAX_SUBJECT_WORDS = 14


@dataclass
class Clause:
    """A statement read for questions; offsets point into ``text``."""

    text: str
    lead: str = ""
    condition: bool = False
    main_start: int = 0
    subject: str = ""
    subject_start: int = 0
    aux: str = ""          # the auxiliary a question puts first ('does', 'is', 'must', 'should')
    verb_start: int = 0    # where the verb group starts in ``text``
    body_start: int = 0    # what follows the auxiliary in a question starts here in ``text``
    lemma: str = ""        # do-support: the verb as it reads after 'does' ('cost' for 'costs')
    lemma_end: int = 0
    pre_verb: str = ""     # adverbs between subject and verb ('also', 'never')
    negation: tuple[int, int] | None = None
    imperative: bool = False

    @property
    def copula(self) -> bool:
        return self.aux in BE and not self.lemma


def words_of(text: str, start: int = 0) -> list[tuple[str, int, int]]:
    """``(word, start, end)`` for each word, punctuation at its ends stripped."""
    out = []
    for m in _WORD.finditer(text, start):
        word = m.group().strip(",.;:!?'’")
        if word:
            offset = m.start() + m.group().find(word)
            out.append((word, offset, offset + len(word)))
    return out


def parse_clause(sentence: str, instruction: bool = False) -> Clause | None:
    """The clause of ``sentence``; ``instruction`` hints that it is a list step ('Check the tyres')."""
    text = _REPLY.sub("", expand_contractions(sentence.strip())).rstrip(".!;:").strip()
    text = re.sub(r"^(?:[Pp]lease|[Ss]imply|[Jj]ust)\s+(?=[a-z])", lambda m: "", text)
    text = upper_first(text)
    clause = Clause(text=text)
    split_lead(clause)
    words = [w for w in words_of(text, clause.main_start)]
    if words and words[0][0].lower() in {"or", "and", "but", "then"}:
        words = words[1:]
    if words and words[0][0].lower() in _CONDITIONS and clause.lead:  # 'After that, or if you do not turn up, ...'
        split_lead(clause, words[0][1])
        words = [w for w in words_of(text, clause.main_start)]
    if len(words) > 1 and words[0][0].lower() in {"please", "simply", "just", "kindly"}:
        words = words[1:]
    if not words:
        return None
    clause.main_start = words[0][1]
    if looks_imperative(words, instruction, after_lead=bool(clause.lead)):
        return imperative(clause, words)
    return declarative(clause, words)


def split_lead(clause: Clause, offset: int = 0) -> None:
    """Cut a leading adjunct ('Under the Workplace Scheme', 'If the box is dirty') off the clause."""
    text = clause.text[offset:]
    first = text.split()[0].lower().strip(",") if text.split() else ""
    if first not in _LEAD_WORDS | _SENTENCE_ADVERBS and not _LEAD_PHRASE.match(text) and not short_adjunct(text):
        return
    depth, cut = 0, -1
    for i, ch in enumerate(text[:200]):
        depth += (ch in "([“") - (ch in ")]”")
        if ch == "," and depth <= 0 and text[i + 1:i + 2] in {" ", ""}:
            cut = i
            break
    if first in _SENTENCE_ADVERBS:
        cut = len(text.split()[0].rstrip(","))  # 'Otherwise a no-show is recorded'
    elif first not in _CONDITIONS:
        if cut > 0 and any(w.lower() in AUXILIARIES for w, _, _ in words_of(text[:cut])):
            cut = -1  # 'During a suspension docks do not release bikes, but ...': no adjunct here
        start = noun_phrase_start(text)
        cut = start if start > 0 and (cut < 0 or start < cut) else cut
    elif cut < 0:
        cut = noun_phrase_start(text, pronouns_only=True)
    if cut <= 0:
        return
    clause.lead = text[:cut].strip(" ,")
    clause.condition = first in _CONDITIONS
    clause.main_start = offset + cut + (text[cut] == ",")


def short_adjunct(text: str) -> bool:
    """Whether the text opens with a few verbless words, a comma, then a subject: 'Out of hours, the
    duty master ...', 'Each spring, we ...' (not a list of names: 'Monday, Tuesday and Friday')."""
    head, comma, rest = text.partition(", ")
    words = head.split()
    return bool(comma) and 0 < len(words) <= 4 and rest.split()[:1] != [] \
        and rest.split()[0].lower() in (DETERMINERS | PRONOUNS) - {"it", "this", "that", "which", "what", "whose"} \
        and not any(w.lower() in AUXILIARIES or verb_forms(w) & {"VBZ", "VBD"} and not is_noun(w) for w in words)


def noun_phrase_start(text: str, pronouns_only: bool = False) -> int:
    """Where the subject starts after a lead with no comma: a pronoun, else a determiner."""
    words = words_of(text)[:14]
    for i, (word, start, _) in enumerate(words[2:], start=2):
        if word.lower() in PRONOUNS - {"it", "this", "that", "these", "those", "there", "here"} \
                and i + 1 < len(words) and is_verb_word(words[i + 1][0]):
            return start
    for i, (word, start, _) in enumerate([] if pronouns_only else words[2:], start=2):
        previous = words[i - 1][0].lower()
        if word.lower() in DETERMINERS and previous not in PREPOSITIONS | DETERMINERS | {"and", "or"}:
            return start
    return -1


def is_verb_word(word: str) -> bool:
    return word.lower() in AUXILIARIES or bool(verb_forms(word) & {"VBZ", "VBD", "VBP"})


def looks_imperative(words: list[tuple[str, int, int]], instruction: bool, after_lead: bool) -> bool:
    first, lower = words[0][0], words[0][0].lower()
    following = words[1][0] if len(words) > 1 else ""
    if lower == "never" or lower == "do" and following.lower() in NEGATIONS:
        return True
    if not (first[:1].isupper() or after_lead) or not is_base_verb(first) \
            or lower in AUXILIARIES | PREPOSITIONS | ADVERBS | DETERMINERS | {"up", "out"}:
        return False
    if first[:1].isupper() and following[:1].isupper():
        return False  # a name: 'Corn Exchange', 'Canal Basin'
    opens_object = following.lower() in DETERMINERS | PREPOSITIONS | PRONOUNS | ADVERBS | PARTICLES | {"along"} \
        or following[:1].isdigit()
    if following.lower() not in DETERMINERS | PRONOUNS | PREPOSITIONS | ADVERBS and is_noun(first) \
            and find_verb(words) is not None:
        return False  # 'Level 1 mechanics are ...', 'Ride credit is used first'
    if following.lower() in PREPOSITIONS and is_noun(first) and finite_verb_follows(words[2:10]):
        return False  # 'Speed within the marina is limited to 3 knots'
    return opens_object or not is_noun(first) or instruction


def finite_verb_follows(words: list[tuple[str, int, int]]) -> bool:
    """Whether an auxiliary comes before any clause word: the first words were a subject, not an order."""
    for word, _, _ in words:
        if word.lower() in _CLAUSE_STOPS:
            return False
        if word.lower() in AUXILIARIES - {"be", "been", "being", "need", "needs", "do"}:
            return True
    return False


def imperative(clause: Clause, words: list[tuple[str, int, int]]) -> Clause:
    """'Phone the desk ...' -> subject 'I', auxiliary 'should'; 'Do not ...' / 'Never ...' are negated."""
    first = words[0][0].lower()
    negated = first == "never" or first == "do" and words[1][0].lower() in {"not", "never"}
    verb = words[2] if first == "do" and negated else words[1] if first == "never" else words[0]
    clause.subject, clause.aux, clause.imperative = "I", "should", True
    clause.verb_start = clause.body_start = verb[1]
    clause.lemma, clause.lemma_end = verb[0].lower(), verb[2]
    if negated:
        clause.negation = (words[0][1], verb[1])
    return clause


def declarative(clause: Clause, words: list[tuple[str, int, int]]) -> Clause | None:
    index = find_verb(words, clause.text)
    if index is None:
        return None
    subject_words = words[:index]
    if subject_words[0][0].lower() in PREPOSITIONS - {"to"} and not clause.lead:
        clause.lead = clause.text[:subject_words[-1][1]].strip(" ,")
        subject_words = subject_words[-1:]
    adverbs = 0
    while adverbs < len(subject_words) - 1 and subject_words[-1 - adverbs][0].lower() in ADVERBS:
        adverbs += 1
    end = subject_words[-1 - adverbs][2] if adverbs else words[index][1]
    clause.subject_start = subject_words[0][1]
    clause.subject = clause.text[clause.subject_start:end].strip(" ,")
    if re.search(r"[—–:]|^\W*$", clause.subject):
        return None
    set_verb_group(clause, words, index)
    if adverbs:
        clause.pre_verb = clause.text[end:words[index][1]].strip()
        if clause.pre_verb.lower().split()[0] in NEGATIONS:
            clause.negation = (end, words[index][1])
    return clause


def find_verb(words: list[tuple[str, int, int]], text: str = "") -> int | None:
    """Index of the first verb of the main clause, or None (no subject, or too long a subject).

    A relative clause in the subject is passed over: in 'Passengers who are also employees add 5p'
    the verb is 'add', agreeing with 'Passengers'."""
    head = ""  # the noun a relative clause describes, once its verb has been passed
    relative: bool | str = False  # True inside a relative clause; "auxiliary" once its auxiliary is read
    ages = age_phrases(words)
    for i, (word, start, _) in enumerate(words[:_MAX_SUBJECT_WORDS + 1]):
        if i == 0:
            continue
        lower = word.lower()
        if lower in SUBORDINATORS | _RELATIVES and text and "," in text[words[i - 1][2]:start]:
            return None  # 'Ring for results after 2 pm, when the lines are quiet': no subject before the comma
        original = next((w for j, (w, _, _) in reversed(list(enumerate(words[:i])))
                         if w.lower() not in ADVERBS and j not in ages), "")
        previous = original.lower()
        if lower in _RELATIVES and not head and previous[:1].isalpha() \
                and previous not in DETERMINERS | PREPOSITIONS | AUXILIARIES | PRONOUNS:
            relative, head = True, previous
            continue
        if lower in SUBORDINATORS and words[i + 1:i + 2] and words[i + 1][0].lower() in _CLAUSE_PRONOUNS:
            relative = True  # 'A bike not returned 24 hours after it was taken is charged': passed like a relative
            continue
        if relative:  # passed until its verb group ends: 'who cannot move', 'who are (also)', 'who travel'
            if lower in AUXILIARIES | ADVERBS:
                relative = "auxiliary" if lower in AUXILIARIES else relative
                continue
            verb = bool(verb_forms(word) if relative == "auxiliary" else verb_forms(word) & {"VBZ", "VBD", "VBP"})
            if verb or relative == "auxiliary":
                relative = False  # it ends with this verb, or before this word ('who are also employees add')
            if verb or relative:
                continue
        if word == "May" and (previous[:1].isdigit() or words[i + 1:i + 2] and words[i + 1][0][:1].isdigit()):
            continue  # the month: 'Updated 20 May 2025'
        if i in ages:
            continue  # 'Riders aged 16 or 17 need ...': an age, not the verb
        if lower in AUXILIARIES - {"need", "needs", "do", "does", "did", "have", "has", "had"} \
                or lower in {"do", "does", "did", "have", "has", "had"} and previous not in DETERMINERS:
            return i
        if not word.islower() or lower.endswith("ing") or lower in PREPOSITIONS \
                or previous in DETERMINERS | PREPOSITIONS | {"to", "and", "or"} \
                or previous in NUMBER_WORDS or previous.endswith(("'s", "’s", "s'", "s’")) \
                or (previous[:1].isdigit() or previous[:1] in "€£$") and not numbered_name(words, i, ages) \
                and not verb_after_figure(word, previous):
            continue
        if text and _EXAMPLES.search(text[:start].rsplit(",", 1)[-1]):
            continue  # 'Small adaptations, such as grab rails, ...': an example, not the verb
        following = next((w for w, _, _ in words[i + 1:] if w.lower() not in ADVERBS), "")
        name_before = original[:1].isupper() and i > 1  # 'Cairnhold Mutual lets': not the adjective 'mutual'
        if is_finite_verb(word, "" if name_before else previous,
                          head or head_word([w for j, (w, _, _) in enumerate(words[:i]) if j not in ages], previous)) \
                and not reduced_relative(words, i, text) \
                and not (is_noun(word) and (auxiliary_follows(words, i, text) or list_item(words, i, text))) \
                and not (lower.endswith("s") and is_noun(word) and (original.islower() or i == 1)
                         and previous not in PRONOUNS  # 'It forms part of': after a pronoun, the verb
                         and is_verb_word(following) and not following.endswith("s")
                         and not takes_object(words, i + 1, text)):
            return i
    return None


def numbered_name(words: list[tuple[str, int, int]], i: int, ages: set[int]) -> bool:
    """Whether the number before ``words[i]`` ends a name ('Level 1 means', 'Form 3 asks'), so a
    verb may follow it; after a bare figure a word is its noun ('3 bikes')."""
    return i >= 2 and i - 1 not in ages and words[i - 2][0][:1].isupper() and words[i - 2][0].isalpha()


def verb_after_figure(word: str, figure: str) -> bool:
    """Whether ``word`` after a figure is a verb, not the noun the figure counts: 'a fee of £25
    applies' (only a verb), 'a fee of £25 covers' (after money), not '3 bikes', '£5 notes are'."""
    forms = verb_forms(word) & {"VBZ", "VBD", "VBP"}
    return bool(forms) and (not is_noun(word) or figure[:1] in "€£$" and "VBZ" in forms)


def age_phrases(words: list[tuple[str, int, int]]) -> set[int]:
    """Indices of the words of an age after a noun: 'aged 16 or 17', 'aged under 5', 'aged 65 or over'."""
    ages: set[int] = set()
    for i, (word, _, _) in enumerate(words):
        following = words[i + 1][0].lower() if i + 1 < len(words) else ""
        if word.lower() == "aged" and (following[:1].isdigit() or following in NUMBER_WORDS or following in _AGE_WORDS):
            ages.add(i)
            for j in range(i + 1, len(words)):
                lower = words[j][0].lower().strip(",")
                if not (lower[:1].isdigit() or lower in NUMBER_WORDS or lower in _AGE_WORDS):
                    break
                ages.add(j)
    return ages


def takes_object(words: list[tuple[str, int, int]], i: int, text: str) -> bool:
    """Whether ``words[i]``, after a word that may be a plural noun or a verb, reads as that verb's
    object or particle, so the word before it is the verb: 'covers up to five items', 'takes paper,
    card and cans' (a verb is seldom followed at once by a list), not 'parks open at 8'."""
    word, _, end = words[i]
    after = words[i + 1][0].lower() if i + 1 < len(words) else ""
    return word.lower() in PARTICLES | PREPOSITIONS or text[end:end + 1] in {",", ";"} or after in {"and", "or"}


def list_item(words: list[tuple[str, int, int]], i: int, text: str) -> bool:
    """A word between commas is an item of a list ('natural disasters, war, and failures'), as is one
    before a comma with no verb after it ('Car parts, tyres and batteries')."""
    if not text or text[words[i][2]:words[i][2] + 1] != ",":
        return False
    return "," in text[words[i - 1][2]:words[i][1]] or not any(is_verb_word(w) for w, _, _ in words[i + 1:]) \
        or listed_subject_follows(words[i + 1:i + 12])


def listed_subject_follows(words: list[tuple[str, int, int]]) -> bool:
    """'[The hand tools], sewing machines and the vinyl cutter do not need ...': after the comma, more
    things, 'and' or 'or', then the verb: the word before the comma was the first of the things."""
    if not words or words[0][0].lower() in {"and", "or", "but", "then", "so"}:
        return False
    coordinated = False
    for word, _, _ in words:
        lower = word.lower()
        if lower in {"and", "or"}:
            coordinated = True
        elif lower in AUXILIARIES:
            return coordinated
        elif lower in _CLAUSE_STOPS or verb_forms(word) & {"VBZ", "VBD"} and not is_noun(word):
            return False
    return False


def head_word(words: list[str], default: str) -> str:
    """The noun a verb agrees with, before the first preposition ('Questions' in 'Questions about
    data go'); ``default`` when no preposition follows the first word."""
    at = next((i for i, word in enumerate(words[1:], start=1) if word.lower() in PREPOSITIONS), None)
    return words[at - 1].lower() if at else default


def auxiliary_follows(words: list[tuple[str, int, int]], i: int, text: str) -> bool:
    """Whether a modal or 'is'/'are' comes a few words after ``words[i]`` in the same clause: then a
    word that can be a noun or a verb is the noun ('Personal purchases on the card must be repaid')."""
    for j, (word, _, end) in enumerate(words[i + 1:i + 8], start=i + 1):
        after = next((w for w, _, _ in words[j + 1:j + 3] if w.lower() not in DETERMINERS), "")
        coordinated_noun = word.lower() in {"and", "or"} and is_noun(after) \
            and after.lower() not in AUXILIARIES  # 'Parking charges and (the) tolls are ...'
        if word.lower() in _CLAUSE_STOPS and not coordinated_noun:
            return False
        if word.lower() in MODALS | BE or word.lower() in {"do", "does", "did"} and words[j + 1:j + 2] \
                and words[j + 1][0].lower() in NEGATIONS:  # '... and the vinyl cutter do not need'
            return True
        if text[end:end + 1] in {",", ";", ":"}:
            return False
    return False


def is_finite_verb(word: str, previous: str, head: str) -> bool:
    """'costs' after 'booking', 'run' after 'Sessions'; not 'load' after 'maximum', 'gate' after 'bay'.
    ``head`` is the noun the verb would agree with ('Questions' in 'Questions about data go')."""
    tags = verb_forms(word)
    if not tags & {"VBZ", "VBD", "VBP"} or is_adjective(previous) and not is_noun(previous):
        return False
    plural_head = is_plural_noun(head) and (head.endswith("s") or head in _IRREGULAR_PLURALS)  # not 'data leak'
    singular_before = not plural_head and head not in PRONOUNS
    return not (tags & {"VBZ", "VBD"} == set() and singular_before and is_noun(word))


def reduced_relative(words: list[tuple[str, int, int]], i: int, text: str) -> bool:
    """'A bike returned late is charged': the participle belongs to the subject; 'is' is the verb."""
    if "VBN" not in verb_forms(words[i][0]):
        return False
    if text and "," in text[words[i - 1][2]:words[i][1]]:
        return True
    for j, (word, start, _) in enumerate(words[i + 1:i + 10], start=i + 1):
        if word.lower() in {"that", "which", "who", "whose"} or "," in text[start - 2:start]:
            return False
        if word.lower() in BE | MODALS:  # not after 'and': 'Subscriptions run from April and are not refunded'
            return words[j - 1][0].lower() not in {"and", "or"}
    return False


def set_verb_group(clause: Clause, words: list[tuple[str, int, int]], index: int) -> None:
    word, start, end = words[index]
    lower = word.lower()
    clause.verb_start = start
    following = words[index + 1] if index + 1 < len(words) else ("", end, end)
    if lower in {"cannot", "can't"}:
        clause.aux, clause.body_start, clause.negation = "can", end, (start, end)
        return
    takes_aux = lower in BE | MODALS or lower in {"have", "has", "had"} and (
        "VBN" in verb_forms(following[0]) or following[0].lower() in {"been", "not", "never"}) \
        or lower in {"do", "does", "did"} and following[0].lower() in NEGATIONS
    if takes_aux:
        clause.aux, clause.body_start = lower, end
        if following[0].lower() in NEGATIONS:
            after = words[index + 2] if index + 2 < len(words) else ("", 0, 0)
            longer = following[0].lower() == "no" and after[0].lower() in {"longer", "more"}  # 'is no longer accepted'
            clause.negation = (following[1], after[2] if longer else following[2])
        return
    tags = verb_forms(word)
    clause.aux = "did" if "VBD" in tags and not tags & {"VBZ", "VBP"} else "does" if "VBZ" in tags else "do"
    clause.lemma, clause.body_start, clause.lemma_end = base_verb(word) or lower, start, end


def body(clause: Clause, removals: list[tuple[int, int]] = (), positive: bool = False) -> str:
    """What follows the subject in a question: the verb group (lemma for do-support) and the rest,
    without the ``removals`` (and without the negation when ``positive``)."""
    cuts = sorted(list(removals) + ([clause.negation] if positive and clause.negation else []))
    pieces, position = [], clause.body_start
    if clause.lemma:
        keep_adverbs = clause.pre_verb and not (positive and clause.negation)
        pieces.extend([clause.pre_verb] if keep_adverbs and not clause.imperative else [])
        pieces.append(clause.lemma)
        position = clause.lemma_end
    for start, end in cuts:
        if end <= position:
            continue
        pieces.append(clause.text[position:max(position, start)])
        position = max(position, end)
    rest = clause.text[position:]
    if cuts:  # ', with no more than 6 people': after the asked part, a comma starts another thought
        rest = re.split(r",\s", rest, maxsplit=1)[0]
    pieces.append(rest)
    asked = " ".join(p.strip() for p in pieces if p.strip())
    return cut_tail(re.sub(r"\s*\([^()]*[\d€£$][^()]*\)", "", asked))  # '(£38 for anyone on ...)': another fact


def cut_tail(text: str) -> str:
    """Stop at the first clause break (';', ', which', ' — ', 'and carried out') so a question asks one thing."""
    match = CLAUSE_BREAK.search(text)
    text = text[:match.start()] if match else text
    for conj in re.finditer(r"\s(?:and|or)\s+(\w+)", text):
        if conj.start() > 0 and verb_forms(conj.group(1)) & {"VBD", "VBZ"} and not is_noun(conj.group(1)):
            text = text[:conj.start()]
            break
    return re.sub(r"\s+([,.)])", r"\1", re.sub(r"\(\s*\)", "", text)).strip(" ,")


def ask(clause: Clause, wh: str, removals: list[tuple[int, int]]) -> str:
    """A wh-question about the removed part of the predicate: 'How much does X cost ...?'."""
    aux = "do" if clause.imperative and wh.lower().startswith(("how do", "what do")) else clause.aux
    subject = lower_first(clause.subject)
    rest = body(clause, removals)
    words = [word.lower().strip(",.") for word in rest.split()]
    if set(words) & NEGATIONS and all(word in FUNCTION_WORDS for word in words):
        return ""  # 'When has cash not been?': the predicate went with the fact
    asked_lead = any(s < clause.main_start for s, _ in removals) or clause.lead.lower() in _SENTENCE_ADVERBS
    lead = "" if asked_lead else clause.lead
    question = " ".join(p for p in (wh, aux, subject, rest, lower_first(lead) if lead else "") if p)
    return finish(question)


def ask_subject(clause: Clause, wh: str) -> str:
    """A question about the subject itself: 'Who may open a battery case?'."""
    rest = cut_tail(clause.text[clause.verb_start:])
    return finish(f"{wh} {rest}")


def ask_yes_no(clause: Clause, removals: list[tuple[int, int]] = ()) -> str:
    """'Monthly Passes cannot be paused' -> 'Can Monthly Passes be paused?'."""
    purpose = f" {lower_first(clause.lead)}" if clause.lead.lower().startswith("to ") or clause.condition else ""
    if clause.imperative:  # the condition stays: 'Is any fee charged if ...?' is not 'Is any fee charged?'
        verb = "Can I" if clause.negation else "Do I need to"
        return finish(f"{verb} {body(clause, removals, positive=True)}{purpose}")
    aux = {"must": "have to", "cannot": "can", "may": "can", "might": "can"}.get(clause.aux, clause.aux)
    subject = lower_first(clause.subject)
    if aux == "have to":
        do = "does" if clause.subject.lower() not in {"i", "you", "we", "they"} and not plural(subject) else "do"
        return finish(f"{upper_first(do)} {subject} have to {body(clause, removals, positive=True)}{purpose}")
    return finish(f"{upper_first(aux)} {subject} {body(clause, removals, positive=True)}{purpose}")


def plural(noun_phrase: str) -> bool:
    """'Monthly Passes', 'cats and dogs', 'purchases on the card' (the head noun comes before a preposition)."""
    words = re.split(r"\s+(?:who|which|that)\s", noun_phrase)[0].split()
    head = head_word(words, words[-1] if words else "").strip(",")
    return " and " in f" {noun_phrase} " or is_plural_noun(head) and (is_noun(head) or is_noun(head[:-1]))


def finish(question: str) -> str:
    """One space between words, user's voice, a capital first letter and one question mark."""
    question = re.sub(r"\s*\([^()]*(?:@|\d{3}|www\.)[^()]*\)", "", question)  # '(harriet@...)', '(01632 ...)'
    question = " ".join(question.replace(" ,", ",").split()).strip(" ,;:.")
    return upper_first(user_voice(question)) + "?"


def condition_phrase(heading: str) -> str:
    """A heading that is a condition, as asked: 'If you fall behind with your rent' -> 'if I fall
    behind with my rent'; "" for any other heading."""
    if not heading.split() or heading.split()[0].lower() not in SUBORDINATORS:
        return ""
    return lower_first(user_voice(lower_first(heading))).rstrip(".:?")


def user_voice(text: str) -> str:
    """The asker's voice: 'your' -> 'my', subject 'you' -> 'I', object 'you' -> 'me', 'we' -> 'you'."""
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        bare, tail = re.match(r"^([\w’']*)(.*)$", word).groups()
        following = words[i + 1].strip(",.;:?").lower() if i + 1 < len(words) else ""
        previous = out[-1].lower() if out else ""
        lower = bare.lower()
        if lower == "you":
            subject = following in AUXILIARIES | ADVERBS or bool(verb_forms(following) & {"VBP", "VB", "VBD", "VBZ"}) \
                or previous in AUXILIARIES and previous != "to"
            before = out[-2].lower() if len(out) > 1 else ""  # 'the other charges you': 'charges' is a noun
            if base_verb(previous) in _OBJECT_VERBS and following not in AUXILIARIES and before not in DETERMINERS:
                subject = False  # 'lets you pay' -> 'let me pay'
            bare = "I" if subject else "me"
        elif lower in {"your", "yours", "yourself", "we", "our", "us", "ours"}:
            bare = {"your": "my", "yours": "mine", "yourself": "myself", "we": "you", "our": "your", "us": "you",
                    "ours": "yours"}[lower]
        out.append(bare + tail)
    text = " ".join(out)
    text = re.sub(r"\b(?:are|Are) I\b", lambda m: ("Am" if m.group()[0] == "A" else "am") + " I", text)
    text = re.sub(r"\bI are\b", "I am", re.sub(r"\b(?:were) I\b", "was I", re.sub(r"\bI were\b", "I was", text)))
    return re.sub(r"\bme (am|have|can|must|may|do|will|should)\b", r"I \1", text)
