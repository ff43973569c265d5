"""The pair record, the generator registry, and what marks a pair as protected by the user's review.

A generator is registered under a name and called once for the whole job::

    results = GENERATORS["rules"](chunks, cfg, progress)   # one ChunkResult per chunk, in order

so teacher models can batch and endpoints can run concurrently. A chunk a generator could not
handle gets ``ChunkResult(error=...)`` instead of raising: the batch goes on and the
reconciliation report shows why that chunk has no pairs. Per-chunk generators (``rules``)
register through ``per_chunk``. Candidates become ``pairs.jsonl`` rows (``make_pair``) with a
stable id (hash of chunk id + question), an evidence span and a grounding score.
"""

import hashlib
from dataclasses import dataclass, field
from typing import Callable

from ..config import PairsConfig
from .validate import evidence_span, grounding_score, instruction_flags, neutralize_control_tokens, words_key

STATUSES = ("pending", "accepted", "rejected", "edited")


@dataclass
class Candidate:
    """A question/answer pair proposed by a generator, with the chunk text that supports it.

    ``fact`` names the statement of the chunk the pair asks about (its text; empty when the
    generator does not group by fact): several phrasings of one fact share it, so a pipeline
    can cap and count per fact instead of per chunk."""

    question: str
    answer: str
    evidence: str = ""
    fact: str = ""


@dataclass
class ChunkResult:
    """What a generator made of one chunk: candidates, or the reason it made none."""

    candidates: list[Candidate] = field(default_factory=list)
    error: str | None = None


Progress = Callable[[int, int], None] | None
Generator = Callable[[list[dict], PairsConfig, Progress], list[ChunkResult]]
GENERATORS: dict[str, Generator] = {}


def register(name: str) -> Callable[[Generator], Generator]:
    """Decorator: make a whole-job ``generator`` available under ``name``."""
    def wrap(generator: Generator) -> Generator:
        GENERATORS[name] = generator
        return generator
    return wrap


def per_chunk(name: str) -> Callable:
    """Decorator: register a ``(chunk, cfg) -> list[Candidate]`` function as a generator."""
    def wrap(function: Callable[[dict, PairsConfig], list[Candidate]]):
        def run(chunks: list[dict], cfg: PairsConfig, progress: Progress = None) -> list[ChunkResult]:
            results = []
            for done, chunk in enumerate(chunks, start=1):
                results.append(ChunkResult(function(chunk, cfg)))
                if progress:
                    progress(done, len(chunks))
            return results
        GENERATORS[name] = run
        return function
    return wrap


def pair_id(chunk_id: str, question: str) -> str:
    key = f"{chunk_id}\x1f{words_key(question)}".encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:16]


def make_pair(chunk: dict, candidate: Candidate, generator: str) -> dict:
    """A ``pairs.jsonl`` row for one candidate of one chunk (control tokens made inert)."""
    question = neutralize_control_tokens(" ".join(candidate.question.split()))
    answer = neutralize_control_tokens(candidate.answer.strip())
    return {"id": pair_id(chunk["id"], question), "question": question, "answer": answer,
            "chunk_id": chunk["id"], "evidence": evidence_span(answer, chunk["text"], candidate.evidence),
            "generator": generator,
            "scores": {"grounding": grounding_score(answer, chunk["text"]), "duplicate_of": None},
            "flags": instruction_flags(f"{question}\n{answer}"),
            "status": "pending", "edited_by_user": False}


def is_protected(pair: dict) -> bool:
    """A pair the user edited or judged must survive regeneration untouched."""
    return bool(pair.get("edited_by_user")) or pair.get("status", "pending") != "pending"
