"""Read a teacher model's reply as pairs: JSON against a small schema, with repair and checks.

    schema = pairs_schema(max_pairs=8)               # what a teacher is asked (and constrained) to write
    candidates = read_reply(reply, chunk)            # parsed, repaired, cleaned, language-checked
    candidates, repaired = parse_pairs_json('{"pairs": [{"question": "Q?", "answer": "A."}]}')

The expected shape is ``{"pairs": [{"question": str, "answer": str, "evidence": str}]}`` (a bare
list of such objects is accepted too). A local teacher decodes under this schema
(``constrained``), so its replies parse unless cut off by the token limit; an endpoint is asked
for it with ``response_format``, which not every server honours. Near-valid JSON (code fences,
a trailing comma, a cut-off reply, single quotes) is repaired with ``json_repair``; chat-control
markers (``<|im_end|>``, ``</s>``, ...) are removed first, since from a model they are never
content. An item without an answer but with an evidence quote is answered by the quote; items
that still lack a string question and answer are skipped. A reply with no usable pair, or
written in another language than the passage, raises ``GeneratorError`` so the caller can retry
or report it; ``raise_if_all_failed`` turns a run in which no passage gave a pair into one error
(so a wrong setup never replaces the project's pairs with nothing).
"""

import functools
import json
import re

import json_repair

from ..errors import GeneratorError
from ..records import Chunk
from .base import Candidate, ChunkResult
from .validate import strip_control_tokens

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)
MAX_QUESTION_CHARS, MAX_ANSWER_CHARS = 300, 600
MIN_LANGUAGE_CONFIDENCE = 0.9  # both texts must be this clearly in their language to call a mismatch
MIN_LANGUAGE_CHARS = 40


def pairs_schema(max_pairs: int, lengths: bool = True) -> dict:
    """The JSON schema of a teacher's reply; ``lengths`` adds string and list bounds (local
    decoding: they keep a small model from looping inside one string; endpoints get the plain
    shape, which every server that supports schemas accepts)."""
    def text(limit: int) -> dict:
        return {"type": "string", "minLength": 1, "maxLength": limit} if lengths else {"type": "string"}

    item = {"type": "object", "additionalProperties": False, "required": ["question", "answer", "evidence"],
            "properties": {"question": text(MAX_QUESTION_CHARS), "answer": text(MAX_ANSWER_CHARS),
                           "evidence": text(MAX_ANSWER_CHARS)}}
    pairs = {"type": "array", "items": item, **({"minItems": 1, "maxItems": max_pairs} if lengths else {})}
    return {"type": "object", "additionalProperties": False, "required": ["pairs"], "properties": {"pairs": pairs}}


def read_reply(reply: str, chunk: Chunk) -> list[Candidate]:
    """The candidates of one chunk's reply; raises GeneratorError when there is none to use."""
    candidates, _ = parse_pairs_json(reply)
    problem = language_mismatch(" ".join(f"{c.question} {c.answer}" for c in candidates), chunk.text)
    if problem:
        raise GeneratorError(problem)
    return candidates


def parse_pairs_json(reply: str) -> tuple[list[Candidate], bool]:
    """Candidates from a reply, and whether the JSON had to be repaired."""
    text = _FENCE.sub("", strip_control_tokens(reply or "")).strip()
    if not text:
        raise GeneratorError("the teacher returned an empty reply")
    repaired = False
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data, repaired = json_repair.loads(text), True
    items = data.get("pairs") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise GeneratorError(f"the teacher's reply is not JSON pairs: {reply[:80]!r}")
    candidates = [Candidate(question=item["question"].strip(), answer=item["answer"].strip(),
                            evidence=str(item.get("evidence") or "").strip())
                  for item in map(fill_answer, items) if valid_item(item)]
    if not candidates:
        raise GeneratorError(f"no valid pair in the teacher's reply: {reply[:80]!r}")
    return candidates, repaired


def fill_answer(item):
    """Schema-level repair: an item with a quoted evidence but no answer is answered by the quote."""
    if isinstance(item, dict) and not str(item.get("answer") or "").strip() and isinstance(item.get("evidence"), str):
        return {**item, "answer": item["evidence"]}
    return item


def valid_item(item) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("question"), str) and isinstance(item.get("answer"), str)
            and bool(item["question"].strip()) and bool(item["answer"].strip()))


@functools.lru_cache(maxsize=1)
def language_identifier():
    """py3langid's identifier with probabilities (loaded once, about a second)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_mismatch(written: str, passage: str) -> str | None:
    """A message when the teacher clearly wrote in another language than the passage, else None.
    Short or mixed texts are never called a mismatch (their language is not clear enough)."""
    if min(len(written), len(passage)) < MIN_LANGUAGE_CHARS:
        return None
    identify = language_identifier().classify
    (wrote, wrote_p), (source, source_p) = identify(written), identify(passage)
    if wrote != source and min(wrote_p, source_p) >= MIN_LANGUAGE_CONFIDENCE:
        return f"the teacher wrote in another language ({wrote}) than the passage ({source})"
    return None


def raise_if_all_failed(results: list[ChunkResult]) -> list[ChunkResult]:
    """The results, unless no passage gave a single candidate: then one GeneratorError that says why."""
    if results and not any(r.candidates for r in results):
        reasons = sorted({r.error for r in results if r.error}, key=lambda e: -sum(r.error == e for r in results))
        why = reasons[0] if reasons else "no reply held a pair"
        raise GeneratorError(f"the teacher gave no usable pair for any of the {len(results)} passages: {why}")
    return results
