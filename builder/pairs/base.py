"""The one pair constructor, the generator registry, and what marks a pair as protected by the user's review.

    pair = new_pair(question, answer, "rules", chunk, evidence="...")   # a generated candidate
    pair = new_pair(question, answer, "manual")                          # written by a person

A generator is registered under a name and called once for the whole job::

    results = GENERATORS["rules"](chunks, pairs_cfg, progress)   # one ChunkResult per chunk, in order

so teacher models can batch and endpoints can run concurrently. A chunk a generator could not
handle gets ``ChunkResult(error=...)`` instead of raising: the batch goes on and the
reconciliation report shows why that chunk has no pairs. Per-chunk generators (``rules``)
register through ``per_chunk``. Candidates become pairs through ``new_pair``, which generation,
the manual add and the import all use: control tokens made inert, a stable id
(``records.pair_id``), an evidence span and a grounding score against the chunk, instruction flags.
"""

from dataclasses import dataclass, field
from typing import Callable

from ..config import PairsConfig
from ..records import BY_PERSON, Chunk, Pair, pair_id
from .validate import evidence_span, grounding_score, instruction_flags, neutralize_control_tokens


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
    """What a generator made of one chunk: candidates, or the reason it made none: ``skipped``
    when the chunk has nothing to ask about (not English, no informative statement), ``error``
    when the generator failed on it."""

    candidates: list[Candidate] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None


ProgressCallback = Callable[..., None] | None  # (chunks done, chunks in all[, pairs so far]): pairs.progress
Generator = Callable[[list[Chunk], PairsConfig, ProgressCallback], list[ChunkResult]]
GENERATORS: dict[str, Generator] = {}


def register(name: str) -> Callable[[Generator], Generator]:
    """Decorator: make a whole-job ``generator`` available under ``name``."""
    def wrap(generator: Generator) -> Generator:
        GENERATORS[name] = generator
        return generator
    return wrap


def per_chunk(name: str) -> Callable:
    """Decorator: register a ``(chunk, pairs_cfg) -> list[Candidate]`` function as a generator."""
    def wrap(function: Callable[[Chunk, PairsConfig], list[Candidate]]):
        def run(chunks: list[Chunk], pairs_cfg: PairsConfig, progress: ProgressCallback = None) -> list[ChunkResult]:
            results = []
            for done, chunk in enumerate(chunks, start=1):
                results.append(ChunkResult(function(chunk, pairs_cfg)))
                if progress:
                    progress(done, len(chunks))
            return results
        GENERATORS[name] = run
        return function
    return wrap


def new_pair(question: str, answer: str, generator: str, chunk: Chunk | None = None, evidence: str = "",
             fact: str = "") -> Pair:
    """A pair: control tokens in the text made inert, its id, the evidence span (``evidence`` is
    the generator's quote, used when it occurs in the chunk) and grounding score against ``chunk``
    (none without one), and instruction flags. A generated pair is ``pending``; one a person
    wrote or brought (``records.BY_PERSON``) keeps its wording and is ``edited``, so regeneration
    keeps it."""
    by_person = generator in BY_PERSON
    question = neutralize_control_tokens(question.strip() if by_person else " ".join(question.split()))
    answer = neutralize_control_tokens(answer.strip())
    key = pair_id(generator, chunk.id if chunk else None, question, answer)
    return Pair(id=key, question=question, answer=answer, chunk_id=chunk.id if chunk else f"{generator}-{key}",
                evidence=evidence_span(answer, chunk.text, evidence) if chunk else None, generator=generator,
                scores={"grounding": grounding_score(answer, chunk.text) if chunk else None, "duplicate_of": None},
                flags=instruction_flags(f"{question}\n{answer}"), fact=fact,
                status="edited" if by_person else "pending", edited_by_user=by_person)


def is_protected(pair: Pair) -> bool:
    """A pair the user edited or judged must survive regeneration untouched."""
    return pair.edited_by_user or pair.status != "pending"
