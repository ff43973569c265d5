"""The review model: statuses, edits, manual pairs and bulk decisions by filter.

    set_status(project, pair_id, "accepted")
    edit_pair(project, pair_id, "New question?", "New answer.")
    add_manual_pair(project, "Who runs the workshop?", "Léa Marchetti.", chunk_id=None)
    bulk_set_status(project, "rejected", PairFilter(max_grounding=0.7))   # -> number changed

A pair is ``pending`` until a person accepts, rejects or edits it; from then on regeneration
never touches it (``base.is_protected``). Training uses every pair except rejected ones and
pending pairs flagged ``instruction_like`` (those need a person's explicit acceptance).
"""

import hashlib
from dataclasses import dataclass

from ..errors import ConfigError, ProjectError
from ..project import Project
from .base import STATUSES
from .validate import evidence_span, grounding_score, instruction_flags, neutralize_control_tokens

BLOCKING_FLAGS = {"instruction_like"}


@dataclass
class PairFilter:
    """Which pairs a bulk action applies to; unset fields match everything."""

    status: str | None = None
    generator: str | None = None
    flag: str | None = None
    chunk_id: str | None = None
    source_id: str | None = None
    min_grounding: float | None = None
    max_grounding: float | None = None
    contains: str | None = None

    def matches(self, pair: dict, chunk_sources: dict[str, str]) -> bool:
        grounding = (pair.get("scores") or {}).get("grounding")
        grounding = 0.0 if grounding is None else grounding  # manual and imported pairs have no score
        text = f"{pair['question']}\n{pair['answer']}".lower()
        checks = [
            self.status is None or pair.get("status") == self.status,
            self.generator is None or pair.get("generator") == self.generator,
            self.flag is None or self.flag in pair.get("flags", []),
            self.chunk_id is None or pair.get("chunk_id") == self.chunk_id,
            self.source_id is None or chunk_sources.get(pair.get("chunk_id")) == self.source_id,
            self.min_grounding is None or grounding >= self.min_grounding,
            self.max_grounding is None or grounding <= self.max_grounding,
            self.contains is None or self.contains.lower() in text,
        ]
        return all(checks)


def check_status(status: str) -> None:
    if status not in STATUSES:
        raise ConfigError(f"status must be one of {', '.join(STATUSES)}")


def set_status(project: Project, pair_id: str, status: str) -> dict:
    """Accept / reject / reset one pair (a judged pair is protected from regeneration)."""
    check_status(status)
    return update_pair(project, pair_id, status=status)


def edit_pair(project: Project, pair_id: str, question: str, answer: str) -> dict:
    """Save the user's own wording; the pair becomes ``edited`` and is never regenerated."""
    question, answer = clean_text(question, answer)
    return update_pair(project, pair_id, question=question, answer=answer, status="edited", edited_by_user=True)


def add_manual_pair(project: Project, question: str, answer: str, chunk_id: str | None = None) -> dict:
    """Add a pair written by the user; with ``chunk_id`` it is grounded against that chunk."""
    question, answer = clean_text(question, answer)
    chunk = None
    if chunk_id is not None:
        chunk = next((c for c in project.chunks() if c["id"] == chunk_id), None)
        if chunk is None:
            raise ProjectError(f"no chunk with id {chunk_id}")
    key = hashlib.sha256(f"manual\x1f{question}\x1f{answer}".encode("utf-8")).hexdigest()[:16]
    pair = {"id": key, "question": question, "answer": answer, "chunk_id": chunk_id or f"manual-{key}",
            "evidence": evidence_span(answer, chunk["text"]) if chunk else None, "generator": "manual",
            "scores": {"grounding": grounding_score(answer, chunk["text"]) if chunk else None, "duplicate_of": None},
            "flags": instruction_flags(f"{question}\n{answer}"), "status": "edited", "edited_by_user": True}
    pairs = project.pairs()
    if any(p["id"] == key for p in pairs):
        raise ProjectError("this pair is already in the project")
    project.save_pairs(pairs + [pair])
    return pair


def bulk_set_status(project: Project, status: str, selection: PairFilter) -> int:
    """Set ``status`` on every pair the filter matches; returns how many changed."""
    check_status(status)
    pairs = project.pairs()
    chunk_sources = {c["id"]: c["source_id"] for c in project.chunks()}
    changed = 0
    for pair in pairs:
        if selection.matches(pair, chunk_sources) and pair.get("status") != status:
            pair["status"] = status
            changed += 1
    if changed:
        project.save_pairs(pairs)
    return changed


def clean_text(question: str, answer: str) -> tuple[str, str]:
    if not question.strip() or not answer.strip():
        raise ConfigError("question and answer cannot be empty")
    return neutralize_control_tokens(question.strip()), neutralize_control_tokens(answer.strip())


def update_pair(project: Project, pair_id: str, **changes) -> dict:
    pairs = project.pairs()
    for pair in pairs:
        if pair["id"] == pair_id:
            pair.update(changes)
            project.save_pairs(pairs)
            return pair
    raise ProjectError(f"no pair with id {pair_id}")


def training_pairs(pairs: list[dict]) -> list[dict]:
    """Pairs that go into training: not rejected, and not pending with a blocking flag."""
    def usable(pair: dict) -> bool:
        blocked = pair.get("status", "pending") == "pending" and BLOCKING_FLAGS & set(pair.get("flags", []))
        return pair.get("status") != "rejected" and not blocked
    return [p for p in pairs if usable(p)]
