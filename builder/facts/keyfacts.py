"""Key facts: the exact substrings a correct answer about a statement must contain.

    facts = key_facts("A booking costs €6.00 per 3-hour slot, from 07:00.")
    [(f.kind, f.text) for f in facts]   # [('money', '€6.00'), ('duration', '3-hour'), ('time', '07:00')]
    fact_in_answer(facts[0], "It is 6 euros.")   # True: €6.00 == 6 euros
    fact_in_answer(facts[0], "It costs €7.")    # False: a wrong figure is a wrong answer

Kinds: money, percent, time, date, day, duration, frequency, measure, code, email, phone, url,
year, count (a number with its noun), number, name (people, places, products: several
capitalised words, an acronym, or a capitalised word that is not an English dictionary word).
Spans never overlap; the more specific kind wins (``€6.00`` is money, not a number).

Matching compares normalised values per kind, so harmless variation matches (``€96`` and
``€96.00``; ``7 days`` and ``seven days``; ``7 pm`` and ``19:00``; ``15 January 2024`` and
``January 15, 2024``; case, accents, thousands separators; ``HR-7`` and ``hr 7``) and a
different number, unit, time or date does not. What it does not cover: paraphrases with no
shared value ("a week" for "7 days"), and numbers written as words above ninety-nine.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .words import AUXILIARIES, FUNCTION_WORDS, is_base_verb, is_dictionary_word, is_noun

_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
NUMBER_WORDS = {**{w: i for i, w in enumerate(_SMALL)}, **_TENS, "hundred": 100, "a hundred": 100, "a dozen": 12}
_WORDNUM = (r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|six"
            r"|seven|eight|nine))?|(?:a )?hundred|a dozen|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
            r"|seventeen|eighteen|nineteen|one|two|three|four|five|six|seven|eight|nine|ten)")
_NUM = r"(?:[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)"
_QUANT = rf"(?:{_NUM}|\b(?i:{_WORDNUM})\b)"
_MONTHS = ("January February March April May June July August September October November December").split()
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December" \
         r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)"
_DAYS = ("Monday Tuesday Wednesday Thursday Friday Saturday Sunday").split()
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?"
_TIME_UNITS = {"second": "second", "sec": "second", "minute": "minute", "min": "minute", "hour": "hour",
               "hr": "hour", "day": "day", "night": "night", "week": "week", "fortnight": "fortnight",
               "month": "month", "year": "year", "yr": "year", "decade": "decade"}
_DURATION_UNIT = (r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|nights?|weeks?|fortnights?|months?|years?|yrs?"
                  r"|decades?)")
_QUALIFIER = r"(?:working|calendar|business|consecutive|whole|full|clear|school|banking|extra|additional)"
_MEASURE_UNIT = (r"(?:km/h|kph|mph|kWh|kW|mAh|Ah|km|cm|mm|kg|mg|lbs?|oz|ml|litres?|liters?|metres?|meters?|miles?"
                 r"|feet|ft|psi|bar|°\s?[CF]|degrees(?: Celsius| Fahrenheit)?|W|V|GB|MB|KB|TB|Mbps|dB|m²|sq\s?m"
                 r"|hectares?|acres?|g|m|l)")
_CURRENCY = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP", "pound": "GBP",
             "pounds": "GBP", "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "us$": "USD",
             "¥": "JPY", "jpy": "JPY", "yen": "JPY", "₹": "INR", "inr": "INR", "rupees": "INR", "chf": "CHF",
             "francs": "CHF", "aud": "AUD", "cad": "CAD", "nzd": "NZD", "sek": "SEK", "nok": "NOK", "dkk": "DKK"}
_SUBUNITS = {"p": "GBP", "pence": "GBP", "cent": "", "cents": "", "¢": ""}  # a hundredth of the currency
_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}

_CODE_PREFIX = r"(?:\b(?:[Ff]orm|[Cc]ode|[Rr]ef(?:erence)?|[Nn]o\.)\s+)"
# (kind, pattern) in priority order: earlier kinds claim their span first.
_PATTERNS = [
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    ("url", r"\b(?:https?://|www\.)[^\s<>()\"']+[^\s<>()\"'.,;:!?]"),
    ("phone", r"(?<![\w.,])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)\s?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?!\w|,\d)"),
    ("money", rf"(?:US\$|[€£$¥₹]|\b(?:EUR|USD|GBP|CHF|AUD|CAD|JPY|INR|NZD|SEK|NOK|DKK)\s?){_NUM}"
              r"(?:\s?(?:million|billion|thousand|bn|m|k)\b)?"
              rf"|{_NUM}(?:\s?(?:million|billion|thousand))?\s?"
              r"(?:EUR|USD|GBP|CHF|euros?|dollars?|pounds|pence|cents?|francs|rupees|yen)\b"
              r"|\b\d+(?:\.\d+)?(?:p|¢)(?!\w)"),  # '45p per mile', '99¢'
    ("percent", rf"{_NUM}\s?(?:%|per ?cent\b)"),
    ("date", rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?(?!\w)"
             rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?|\b{_MONTH}\s+\d{{4}}\b"
             r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}(?:st|nd|rd|th)\b"),
    ("time", r"\b(?:[01]?\d|2[0-4])[:h][0-5]\d(?:\s?(?:[ap]\.m\.|[ap]m\b))?"
             r"|\b(?:1[0-2]|0?[1-9])(?:\.[0-5]\d)?\s?(?:[ap]\.m\.|[ap]m\b)|\b(?:noon|midday|midnight)\b"),
    ("measure", rf"{_QUANT}\s?{_MEASURE_UNIT}(?![\w])"),
    ("duration", rf"{_QUANT}(?:\s|-)(?:{_QUALIFIER}\s)?{_DURATION_UNIT}\b"),
    ("frequency", rf"(?<!\bat )\b(?:once(?!\s+(?:you|we|they|it|he|she|I|the|your|our|their|this|that)\b)"
                  r"(?!\s+an?\s+(?!(?:day|week|month|year|fortnight|night|term|quarter|season|session|shift)\b))"
                  rf"|(?:twice|{_QUANT} times)(?!\s+(?:the|as|your|our|their|its|that|this)\b))"  # not 'twice the fare'
                  r"\b(?:\s(?:a|an|per|each|every|in each)\s[a-z]+)?"
                  r"|\b(?:daily|weekly|fortnightly|monthly|quarterly|annually|yearly|hourly)\b"
                  rf"|\bevery (?:other )?(?:day|week|month|year|morning|evening|night|weekday|{_DAY})\b"
                  r"(?: (?:morning|afternoon|evening|night))?"),
    ("code", r"\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b"
             rf"|{_CODE_PREFIX}?\b[A-Z]{{1,6}}[-‐]?\d+[A-Z]?(?:[.\-/]\w+)*\b(?:\s[A-Z]\d+(?:\.\d+)?\b)?"
             rf"|{_CODE_PREFIX}[A-Z0-9][A-Z0-9.\-/]*\d[A-Z0-9.\-/]*\b|\b[A-Z]\d+[A-Z]\d*\b"
             rf"|\b(?!(?:{'|'.join(_DAYS + _MONTHS)})\b)[A-Z][a-z]+ \d+(?:\.\d+)?\b(?![:.,]?\d)"),
    ("day", rf"\b{_DAY}(?:\s(?:mornings?|afternoons?|evenings?|nights?|lunchtimes?))?\b"),  # 'Tuesday evenings'
    ("year", r"\b(?:19|20)\d{2}(?:[/–-]\d{2}(?!\d))?\b"),  # '2024', the financial year '2025/26'
    ("count", rf"(?:(?<![\w.,]){_NUM}(?!\w|-[A-Z])|\b(?i:{_WORDNUM})\b)"
              r"(?:\s(?:[a-z][\w-]*|[A-Z][a-z]+(?:\s[A-Z][a-z]+)?))?"),
]
_COMPILED = [(kind, re.compile(pattern)) for kind, pattern in _PATTERNS]
_NAME_WORD = r"(?:\d+-)?(?:Mc|Mac|O’|O')?[A-Z][\w’'\-]*(?<![’'])"
_NAME = re.compile(rf"(?<!\w){_NAME_WORD}(?:\s(?:(?:of|de|du|da|di|van|von|der|le|la|&)\s(?:the\s)?)?{_NAME_WORD})*")
_NOT_NAME_STARTS = frozenset(
    "a an the this that these those there their they it its if when where why how what which who all any each "
    "every some no not our your my his her we you he she i in on at for from by with under during after before "
    "until since once while unless as and or but so also only both either neither one ms mr mrs dr".split())
_NOT_COUNT_NOUNS = FUNCTION_WORDS | AUXILIARIES | {"per", "times", "more", "less", "fewer", "extra"}
_TITLES = frozenset("ms mr mrs dr prof sir dame".split())
_FACT_KINDS = {k for k, _ in _PATTERNS} | {"name"}
_NUMERIC = {"count", "number", "year"}


@dataclass(frozen=True)
class KeyFact:
    """One key fact: its kind, the exact text, where it is in the statement, and a comparable value."""

    kind: str
    text: str
    start: int
    end: int
    value: tuple

    @property
    def number(self) -> float | None:
        """The numeric value of numeric facts (money, counts, durations ...), else None."""
        return next((v for v in self.value if isinstance(v, float)), None)


def key_facts(text: str) -> list[KeyFact]:
    """The key facts of ``text`` in reading order (see the module docstring for the kinds)."""
    return list(cached_key_facts(text))


@lru_cache(maxsize=20_000)
def cached_key_facts(text: str) -> tuple[KeyFact, ...]:
    taken = [False] * len(text)
    facts: list[KeyFact] = []
    for kind, pattern in _COMPILED:
        for match in pattern.finditer(text):
            start, end = trim_span(text, match.start(), match.end())
            if end <= start or any(taken[start:end]) or not accept(kind, text, start, end):
                continue
            fact = make_fact(kind, text, start, end)
            if fact is not None:
                facts.append(fact)
                taken[start:end] = [True] * (end - start)
    facts.extend(name_facts(text, taken))
    return tuple(sorted(facts, key=lambda f: f.start))


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1] in " -,.;:":
        end -= 1
    return start, end


def accept(kind: str, text: str, start: int, end: int) -> bool:
    """Checks a regular expression cannot express: digit counts, list numbers, lone 'one'."""
    span = text[start:end]
    if kind == "phone":
        digits = re.sub(r"\D", "", span)
        return len(digits) >= 8 and (span[0] in "+(0" or re.fullmatch(r"\d{3}[-.\s]\d{3}[-.\s]\d{4}", span) is not None)
    if kind == "count":
        first = span.split()[0].lower()
        following = span.split()[1].lower() if len(span.split()) > 1 else ""
        if first == "one" and (not following or following in {"of", "another", "or", "and", "day"}):
            return False
        return not (following in {"of"} and first in NUMBER_WORDS)
    if kind == "code" and re.fullmatch(r"[A-Z][a-z]+ \d+(?:\.\d+)?", span):
        return span.split()[0].lower() not in _NOT_NAME_STARTS
    return True


def make_fact(kind: str, text: str, start: int, end: int) -> KeyFact | None:
    span = text[start:end]
    if kind == "count":
        words = span.split()
        if len(words) > 1 and (words[1].lower() in _NOT_COUNT_NOUNS
                               or words[1].islower() and "-" not in words[1] and not is_noun(words[1])):
            end = start + len(words[0])
            span = words[0]
        if not re.search(r"\d", span) and len(span.split()) == 1:
            return None  # a number word on its own ('if the two differ') is not a fact
        if len(span.split()) == 1:
            kind = "number"
    value = normalise(kind, span)
    return KeyFact(kind, span, start, end, value) if value else None


def name_facts(text: str, taken: list[bool]) -> list[KeyFact]:
    """Proper names: runs of capitalised words, acronyms, and capitalised non-dictionary words."""
    out = []
    for match in _NAME.finditer(text):
        start, end = match.start(), match.end()
        words = match.group(0).split()
        while words and (words[0].lower() in _NOT_NAME_STARTS and words[0].lower() not in _TITLES
                         or len(words) > 1 and sentence_start(text, start) and is_dictionary_word(words[0])
                         and (words[1][:1].islower() or is_base_verb(words[0]))):
            start += len(words[0]) + 1
            words = words[1:]
        while words and words[-1].lower() in {"of", "and", "the", "&", "de", "van", "von"}:
            words = words[:-1]
        end = start + len(" ".join(words))
        if not words or any(taken[start:end]) or not is_name(words, sentence_start(text, start)):
            continue
        out.append(KeyFact("name", text[start:end], start, end, normalise("name", text[start:end])))
    return out


def sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?:;\"“‘(—–-•*|"


def is_name(words: list[str], at_start: bool) -> bool:
    capitals = [w for w in words if w[:1].isupper()]
    if len(capitals) >= 2:
        return True
    word = words[0]
    if len(words) != 1 or word in _MONTHS or word.rstrip("s") in _DAYS:
        return False
    if re.fullmatch(r"[A-Z][A-Z0-9&]{1,4}s?", word):
        return True  # an acronym
    return not at_start and not is_dictionary_word(word)


def normalise(kind: str, span: str) -> tuple:
    """A value that is equal for two spellings of the same fact."""
    if kind == "money":
        return money_value(span)
    if kind in {"count", "number", "percent", "year"}:
        number = leading_number(span)
        return ("number", number) if number is not None else ()
    if kind in {"duration", "measure"}:
        return quantity_value(kind, span)
    if kind == "time":
        minutes = time_minutes(span)
        return ("time", minutes) if minutes is not None else ()
    if kind == "date":
        return date_value(span)
    if kind in {"code", "phone"}:
        key = re.sub(_CODE_PREFIX, "", span) if kind == "code" else span
        return (kind, re.sub(r"[^0-9A-Za-z]", "", key).upper())
    if kind == "day":
        return ("day", span[:3].lower())
    if kind == "frequency":
        return ("text", fold(span if span.lower().startswith("every") else span.split()[0]))
    return ("text", fold(span))


def fold(text: str) -> str:
    """Case, accents, hyphens and apostrophes folded away, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[-‐–—/]", " ", text).split())


def parse_number(token: str) -> float | None:
    """'4,812' -> 4812.0; '−3' -> -3.0; 'twenty-five' -> 25.0; 'seven' -> 7.0."""
    token = token.strip().lower().replace("−", "-")
    digits = re.sub(r"(?<=\d),(?=\d{3})", "", token)
    if re.fullmatch(r"-?\d+(?:\.\d+)?", digits):
        return float(digits)
    if token in NUMBER_WORDS:
        return float(NUMBER_WORDS[token])
    parts = re.split(r"[- ]", token)
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in NUMBER_WORDS:
        return float(_TENS[parts[0]] + NUMBER_WORDS[parts[1]])
    return None


def leading_number(span: str) -> float | None:
    match = re.match(rf"\s*({_NUM}|(?i:{_WORDNUM}))", span)
    return parse_number(match.group(1)) if match else None


def money_value(span: str) -> tuple:
    number = re.search(_NUM, span)
    if not number:
        return ()
    value = parse_number(number.group(0))
    rest = (span[:number.start()] + " " + span[number.end():]).lower()
    words = set(re.findall(r"[a-z$€£¥₹¢]+", rest))
    if words & _SUBUNITS.keys():  # '45p' is £0.45
        return ("money", _SUBUNITS[min(words & _SUBUNITS.keys())], round(value / 100, 4))
    scale = next((v for k, v in _SCALE.items() if k in words), 1.0)
    currency = next((c for k, c in _CURRENCY.items() if k in words or not k.isalpha() and k in rest), "")
    return ("money", currency, round(value * scale, 4))


def quantity_value(kind: str, span: str) -> tuple:
    value = leading_number(span)
    unit = re.sub(rf"^\s*(?:{_NUM}|(?i:{_WORDNUM}))[\s-]*", "", span).lower()
    if kind == "duration":
        word = unit.split()[-1].rstrip("s") if unit.split() else ""
        unit = _TIME_UNITS.get(word, word)
    else:
        unit = re.sub(r"\s|degrees?|°", "", unit).replace("celsius", "c").replace("fahrenheit", "f")
        unit = {"kph": "km/h", "litre": "l", "liter": "l", "litres": "l", "liters": "l", "metres": "m",
                "meters": "m", "metre": "m", "meter": "m"}.get(unit, unit)
    return (kind, unit, value) if value is not None else ()


def time_minutes(span: str) -> int | None:
    """Minutes after midnight: '7 pm' -> 1140; '10:00' -> 600; 'noon' -> 720."""
    lowered = span.lower().replace(".", ":").replace("h", ":")
    if "noon" in lowered or "midday" in lowered:
        return 720
    if "midnight" in lowered:
        return 0
    match = re.match(r"(\d{1,2})(?::(\d{2}))?", lowered)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if re.search(r"p:?m", lowered) and hours < 12:
        hours += 12
    if re.search(r"a:?m", lowered) and hours == 12:
        hours = 0
    return (hours % 24) * 60 + minutes


def date_value(span: str) -> tuple:
    """(day, month, year) with 0 for a part the date does not give."""
    month = next((i + 1 for i, name in enumerate(_MONTHS) if name[:3] in span), 0)
    numbers = [int(n) for n in re.findall(r"\d+", span)]
    year = next((n for n in numbers if n > 31), 0)
    day = next((n for n in numbers if n <= 31), 0)
    if not month and re.fullmatch(r"\d{4}-\d{2}-\d{2}", span):
        year, month, day = numbers
    elif not month and "/" in span and len(numbers) == 3:
        day, month, year = numbers[0], numbers[1], numbers[2] % 100 + (2000 if numbers[2] < 100 else 0) \
            if numbers[2] < 100 else numbers[2]
    return ("date", day, month, year)


def same_value(fact: KeyFact, other: KeyFact) -> bool:
    """Two facts state the same thing (kinds that can hold the same value compare by value)."""
    a, b = fact.value, other.value
    if fact.kind == "money" and other.kind == "money":
        return a[2] == b[2] and (not a[1] or not b[1] or a[1] == b[1])
    if fact.kind == "date" and other.kind == "date":  # (day, month, year); an answer may leave out the year
        return (not a[1] or a[1] == b[1]) and (not a[2] or a[2] == b[2]) and (not a[3] or not b[3] or a[3] == b[3])
    if fact.kind in _NUMERIC and other.kind in _NUMERIC | {"measure", "duration", "percent"}:
        return fact.number == other.number
    if fact.kind == "percent" and other.kind in {"percent", "number"}:
        return fact.number == other.number
    return fact.kind == other.kind and a == b


def fact_in_answer(fact: KeyFact, answer: str) -> bool:
    """Whether ``answer`` states ``fact`` (tolerant of harmless variation, strict on values)."""
    if fact.kind in {"name", "email", "url", "frequency"}:
        return re.search(rf"(?<!\w){re.escape(fact.value[1])}(?!\w)", fold(answer)) is not None
    if fact.kind == "day":  # named on its own or inside another fact ("every Wednesday")
        return any(day[:3].lower() == fact.value[1] for day in re.findall(rf"\b{_DAY}\b", answer))
    if fact.kind == "code":
        parts = re.findall(r"[A-Za-z]+|\d+", re.sub(_CODE_PREFIX, "", fact.text))
        loose = r"[\s\-‐./]*".join(parts)
        return re.search(rf"(?<![A-Za-z0-9]){loose}(?![A-Za-z0-9])", answer, re.IGNORECASE) is not None
    return any(same_value(fact, other) for other in key_facts(answer))


def missing_facts(facts: list[KeyFact], answer: str) -> list[KeyFact]:
    """The facts ``answer`` does not state (empty when it states them all)."""
    return [f for f in facts if not fact_in_answer(f, answer)]


def answer_key_facts(answer: str, question: str = "") -> list[KeyFact]:
    """Key facts of a reference answer that the question does not already give away."""
    return [f for f in key_facts(answer) if not (question and fact_in_answer(f, question))]
