"""Turn a project's chunks into question/answer pairs, keeping the user's review decisions.

    summary = generate_pairs(project)   # uses project.yaml's pairs.generator

Regeneration never overwrites a pair the user edited, accepted or rejected (``merge_pairs``).
"""

from ..config import PairsConfig
from ..errors import ConfigError, ProjectError
from ..project import Project
from . import rules  # noqa: F401  (registers the generator)
from .base import GENERATORS, STATUSES, make_pair, merge_pairs


def generate_pairs(project: Project, cfg: PairsConfig | None = None, progress=None) -> dict:
    """Run the configured generator over every chunk; save and summarise ``pairs.jsonl``.

    ``progress``, if given, is called as ``progress(done_chunks, total_chunks)``.
    """
    cfg = cfg or project.load_config().pairs
    generator = GENERATORS.get(cfg.generator)
    if generator is None:
        raise ConfigError(f"unknown generator '{cfg.generator}' (known: {', '.join(sorted(GENERATORS))})")
    chunks = project.chunks()
    if not chunks:
        raise ProjectError("no chunks yet: add documents first (dab ingest)")
    fresh: list[dict] = []
    for done, chunk in enumerate(chunks, start=1):
        fresh.extend(make_pair(chunk, c, cfg.generator) for c in generator(chunk, cfg))
        if progress:
            progress(done, len(chunks))
    pairs = merge_pairs(project.pairs(), list({p["id"]: p for p in fresh}.values()))
    project.save_pairs(pairs)
    return {"chunks": len(chunks), "pairs": len(pairs),
            "chunks_without_pairs": len({c["id"] for c in chunks} - {p["chunk_id"] for p in pairs})}


def set_status(project: Project, pair_id: str, status: str) -> dict:
    """Accept / reject / reset one pair (a judged pair is protected from regeneration)."""
    if status not in STATUSES:
        raise ConfigError(f"status must be one of {', '.join(STATUSES)}")
    return update_pair(project, pair_id, status=status)


def edit_pair(project: Project, pair_id: str, question: str, answer: str) -> dict:
    """Save the user's own wording; the pair becomes ``edited`` and is never regenerated."""
    if not question.strip() or not answer.strip():
        raise ConfigError("question and answer cannot be empty")
    return update_pair(project, pair_id, question=question.strip(), answer=answer.strip(),
                       status="edited", edited_by_user=True)


def update_pair(project: Project, pair_id: str, **changes) -> dict:
    pairs = project.pairs()
    for pair in pairs:
        if pair["id"] == pair_id:
            pair.update(changes)
            project.save_pairs(pairs)
            return pair
    raise ProjectError(f"no pair with id {pair_id}")


def training_pairs(pairs: list[dict]) -> list[dict]:
    """Pairs that go into training: everything the user has not rejected."""
    return [p for p in pairs if p.get("status") != "rejected"]
