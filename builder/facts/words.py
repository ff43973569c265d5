"""English word classes for reading statements without a parser model.

    is_verb_form("costs")       # True: a finite verb form (VBZ) of "cost"
    base_verb("paid")            # "pay"
    inflect_verb("cost", "VBZ")  # "costs"

Closed classes (auxiliaries, determiners, prepositions, pronouns) are listed here; open classes
come from lemminflect's English lexicon, a dictionary lookup that ships with the package
(no model download). A word can be both a noun and a verb ("runs", "book"); callers decide
from its neighbours.
"""

import re
from functools import lru_cache

AUXILIARIES = frozenset("is are was were am be been being has have had do does did can cannot could may might must "
                        "shall should will would need needs".split())
MODALS = frozenset("can cannot could may might must shall should will would".split())
NEGATIONS = frozenset("not never no".split())
DETERMINERS = frozenset("a an the this that these those each every any all some no your my our their his her its "
                        "both either neither another other such whose which what".split())
PREPOSITIONS = frozenset("in on at for from by with under during after before until since over through into onto "
                         "within without between among about against across along around behind below above "
                         "beyond near per via to of than except including".split())
PARTICLES = frozenset("up out off down back away".split())  # 'covers up to', 'fill out', 'pay back'
SUBORDINATORS = frozenset("if when whenever unless once while where although though because as whether so "
                          "after before until since".split())
PRONOUNS = frozenset("it they this these those he she we you i them him her us me there here".split())
ADVERBS = frozenset("also usually always never often only still then just already normally generally typically "
                    "automatically not sometimes again first".split())
FUNCTION_WORDS = frozenset(
    "a an the this that these those there their they them it its he she his her him you your we our us i me my "
    "is are was were be been being am has have had do does did can could may might must shall should will would "
    "of to in on at for from by with about into over under between through after before during until since "
    "and or but if then than as so not no nor only also any all each every some such what which who whom whose "
    "when where why how both either neither more most other another".split())


@lru_cache(maxsize=100_000)
def lemmas(word: str) -> dict:
    """lemminflect's ``{upos: lemmas}`` for a lower-cased word ({} when it is not in the lexicon)."""
    from lemminflect import getAllLemmas

    return dict(getAllLemmas(word.lower()))


def is_dictionary_word(word: str) -> bool:
    """True when the lower-cased word (or its singular) is in the English lexicon."""
    bare = word.strip("’'").lower()
    return bool(lemmas(bare)) or bare.endswith("s") and bool(lemmas(bare[:-1]))


def is_noun(word: str) -> bool:
    return "NOUN" in lemmas(word)


def is_plural_noun(word: str) -> bool:
    """'passengers', 'mechanics' (a singular lemma besides the word), not 'business' or 'news';
    words not in the lexicon by their final 's'."""
    lower = word.lower()
    nouns = lemmas(lower).get("NOUN")
    return any(lemma != lower for lemma in nouns) if nouns else lower.endswith("s") and not lower.endswith("ss")


def is_adjective(word: str) -> bool:
    return "ADJ" in lemmas(word)


def base_verb(word: str) -> str | None:
    """The verb lemma of ``word`` ('paid' -> 'pay'), or None if it is not a verb."""
    lower = word.lower()
    if lower in {"cannot", "can't"}:
        return "can"
    found = lemmas(lower).get("VERB") or lemmas(lower).get("AUX")
    return found[0] if found else None


@lru_cache(maxsize=100_000)
def verb_forms(word: str) -> frozenset:
    """Penn tags ('VB', 'VBZ', 'VBD', 'VBN', 'VBG', 'VBP') that ``word`` is a form of."""
    from lemminflect import getAllInflections

    from lemminflect import getInflection

    lemma = base_verb(word)
    if lemma is None:
        return frozenset()
    tags = {tag for tag, forms in getAllInflections(lemma, upos="VERB").items() if word.lower() in forms}
    if word.lower() in getInflection(lemma, tag="VBN"):
        tags.add("VBN")  # regular participles are listed under VBD only
    return frozenset(tags)


def is_verb_form(word: str) -> bool:
    """A finite verb that can head a clause: 'costs', 'paid', 'run' (not 'running')."""
    return bool(verb_forms(word) & {"VBZ", "VBD", "VBP", "VBN"})


def is_base_verb(word: str) -> bool:
    """The bare infinitive, as in an instruction: 'Check the tyres', 'Phone the desk'."""
    return "VB" in verb_forms(word)


def inflect_verb(lemma: str, tag: str) -> str:
    """``lemma`` in form ``tag`` ('VBZ', 'VBD', ...); the lemma itself when unknown."""
    from lemminflect import getInflection

    forms = getInflection(lemma, tag=tag)
    return forms[0] if forms else lemma


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym, a name or 'I'."""
    words = text.split()
    first = words[0] if words else ""
    if len(words) > 1 and first[:1].isupper() and words[1][:1].isupper() and first.lower() not in FUNCTION_WORDS:
        return text  # a name of several words: 'Casual Riders', 'Harbour Steps'
    if first.lower() in FUNCTION_WORDS and first != "I":
        return text[:1].lower() + text[1:]
    if not first or first == "I" or len(first) > 1 and (first.isupper() or first[1:] != first[1:].lower()):
        return text
    if first[:1].isupper() and not all(is_dictionary_word(part) for part in first.strip("“”\"'’(),.:;").split("-")
                                       if part):
        return text  # a name: not an English dictionary word
    return text[:1].lower() + text[1:]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


_CONTRACTIONS = [
    (re.compile(r"\b([Ww])on[’']t\b"), r"\1ill not"), (re.compile(r"\b([Cc])an[’']t\b"), r"\1annot"),
    (re.compile(r"\b([Ss])han[’']t\b"), r"\1hall not"), (re.compile(r"\b(\w+)n[’']t\b"), r"\1 not"),
    (re.compile(r"\b(I|[Yy]ou|[Ww]e|[Tt]hey|[Hh]e|[Ss]he|[Ii]t|[Tt]hat|[Tt]here)[’']ll\b"), r"\1 will"),
    (re.compile(r"\b([Yy]ou|[Ww]e|[Tt]hey)[’']re\b"), r"\1 are"),
    (re.compile(r"\b(I|[Yy]ou|[Ww]e|[Tt]hey)[’']ve\b"), r"\1 have"), (re.compile(r"\bI[’']m\b"), "I am"),
    (re.compile(r"\b([Ii]t|[Tt]hat|[Tt]here|[Hh]ere|[Ww]hat|[Hh]e|[Ss]he)[’']s\b"), r"\1 is"),
]


def expand_contractions(text: str) -> str:
    """Write out the contractions of conversational documents, so a clause is read word by word:
    "You'll need a card" -> 'You will need a card', "we won't charge" -> 'we will not charge'.
    A possessive 's ('the Panel's chair') is left alone; only pronouns take 'is'."""
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text
