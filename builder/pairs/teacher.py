"""Read a teacher model's reply as pairs: JSON against a small schema, with repair.

    candidates = parse_pairs_json('{"pairs": [{"question": "Q?", "answer": "A."}]}')

The expected shape is ``{"pairs": [{"question": str, "answer": str, "evidence": str}]}`` (a bare
list of such objects is accepted too). Small models often return near-valid JSON: code fences,
a trailing comma, a reply cut off by the token limit, single quotes. Such replies are repaired
with ``json_repair``; an item without an answer but with an evidence quote is answered by
the quote; items that still lack a string question and answer are skipped. A reply
with no usable pair raises ``GeneratorError`` so the caller can retry or report it.
"""

import json
import re

import json_repair

from ..errors import GeneratorError
from .base import Candidate

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)


def parse_pairs_json(reply: str) -> tuple[list[Candidate], bool]:
    """Candidates from a reply, and whether the JSON had to be repaired."""
    text = _FENCE.sub("", reply or "").strip()
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
