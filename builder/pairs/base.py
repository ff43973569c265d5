"""The pair record, the generator registry, and the merge that protects the user's review.

A generator is a function ``(chunk: dict, cfg: PairsConfig) -> list[Candidate]``. Candidates
become ``pairs.jsonl`` rows with a stable id (hash of chunk id + question), an evidence span
(character offsets of the supporting text inside the chunk) and a grounding score.
"""

import hashlib
import re
from dataclasses import dataclass
from typing import Callable

from ..config import PairsConfig

STATUSES = ("pending", "accepted", "rejected", "edited")


@dataclass
class Candidate:
    """A question/answer pair proposed by a generator, with the chunk text that supports it."""

    question: str
    answer: str
    evidence: str


Generator = Callable[[dict, PairsConfig], list[Candidate]]
GENERATORS: dict[str, Generator] = {}


def register(name: str) -> Callable[[Generator], Generator]:
    """Decorator: make ``generator`` available under ``name``."""
    def wrap(generator: Generator) -> Generator:
        GENERATORS[name] = generator
        return generator
    return wrap


_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def grounding_score(answer: str, chunk_text: str) -> float:
    """Share of the answer's words that occur in the chunk (1.0 = every word is supported)."""
    answer_words = words(answer)
    if not answer_words:
        return 0.0
    chunk_words = set(words(chunk_text))
    return round(sum(w in chunk_words for w in answer_words) / len(answer_words), 3)


def pair_id(chunk_id: str, question: str) -> str:
    key = f"{chunk_id}\x1f{' '.join(words(question))}".encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:16]


def make_pair(chunk: dict, candidate: Candidate, generator: str) -> dict:
    """A ``pairs.jsonl`` row for one candidate of one chunk."""
    start = chunk["text"].find(candidate.evidence)
    span = {"start": start, "end": start + len(candidate.evidence)} if start >= 0 else None
    return {"id": pair_id(chunk["id"], candidate.question), "question": candidate.question.strip(),
            "answer": candidate.answer.strip(), "chunk_id": chunk["id"], "evidence": span,
            "generator": generator,
            "scores": {"grounding": grounding_score(candidate.answer, chunk["text"])},
            "status": "pending", "edited_by_user": False}


def is_protected(pair: dict) -> bool:
    """A pair the user edited or judged must survive regeneration untouched."""
    return pair.get("edited_by_user") or pair.get("status") != "pending"


def merge_pairs(existing: list[dict], fresh: list[dict]) -> list[dict]:
    """New generation result: protected pairs kept as they are, other old pairs replaced."""
    kept = [p for p in existing if is_protected(p)]
    kept_ids = {p["id"] for p in kept}
    return kept + [p for p in fresh if p["id"] not in kept_ids]
