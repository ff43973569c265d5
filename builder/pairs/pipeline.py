"""Generate, validate, deduplicate and reconcile pairs for a whole project.

    summary = generate_pairs(project)               # adds to the pairs already there
    summary = generate_pairs(project, replace=True) # unreviewed pairs are replaced (reviewed ones stay)
    print(format_report(load_report(project)))      # what `dab pairs --report` prints

Every candidate a generator proposes ends up either in ``pairs.jsonl`` or in
``pairs_dropped.jsonl`` with its reason (empty, garbled, too_long, too_short, ungrounded,
over_limit, duplicate, conflicting, already_in_project), so nothing is lost silently:

- ``over_limit``: a fact already has ``max_questions_per_fact`` phrasings (generators that
  group candidates by fact, like ``rules``, put the best first); a teacher's candidates, which
  carry no fact, are capped at ``max_pairs_per_chunk`` per passage;
- ``duplicate``: the question repeats an earlier one (``duplicate_similarity``) with the same
  answer; different phrasings of one fact are different questions and are all kept;
- ``conflicting``: the same question (in words) with a different answer: a question that
  cannot have one right answer is not taught;
- ``already_in_project``: the same question about the same passage is already a pair.

Regeneration adds: existing pairs stay and new ones are checked against them. With ``replace``
the unreviewed ones (pending, not edited) are dropped first and counted as ``replaced``; pairs
the user edited or judged always stay. The reconciliation report (``pairs_report.json``) lists
every chunk with its candidates, kept and dropped pairs per reason, protected pairs, and why it
has none (``skipped``: nothing to ask about; ``error``: the generator failed); per chunk and in
total ``candidates == kept + dropped`` and ``pairs in the file == kept + existing``. Its
``coverage`` says how many informative statements of the documents some answer states
(``builder.facts``), with the uncovered ones by document and heading.
"""

import time
from collections import Counter

from rapidfuzz import fuzz

from ..config import PairsConfig
from ..errors import ConfigError, ProjectError
from ..facts import coverage, key_facts, read_chunks
from ..project import Project
from ..records import Chunk, Pair, words_key
from ..storage import read_json, write_json, write_jsonl
from .base import GENERATORS, ChunkResult, is_protected, new_pair
from .validate import near_duplicates, rejection_reason

REPORT_FILE = "pairs_report.json"
DROPPED_FILE = "pairs_dropped.jsonl"
MAX_UNCOVERED_LISTED = 200


def generate_pairs(project: Project, pairs_cfg: PairsConfig | None = None, progress=None,
                   replace: bool = False) -> dict:
    """Run the configured generator over every chunk; save pairs, dropped pairs and the report.

    ``progress``, if given, is called as ``progress(done_chunks, total_chunks[, pairs_so_far])``
    (``pairs.progress.GenerationProgress.update``).
    """
    pairs_cfg = pairs_cfg or project.load_config().pairs
    generator = GENERATORS.get(pairs_cfg.generator)
    if generator is None:
        raise ConfigError(f"unknown generator '{pairs_cfg.generator}' (known: {', '.join(sorted(GENERATORS))})")
    chunks = project.chunks()
    if not chunks:
        raise ProjectError("no chunks yet: add documents first (dab ingest)")
    results = generator(chunks, pairs_cfg, progress)  # slow: outside the pairs lock
    with project.edit_pairs() as pairs:  # reconciled against the pairs as they are now, edits included
        existing = list(pairs)
        kept_existing = [p for p in existing if is_protected(p) or not replace]
        pairs[:], dropped, report = reconcile(chunks, results, kept_existing, pairs_cfg)
        report["totals"]["replaced"] = len(existing) - len(kept_existing)
    report["coverage"] = coverage_report(project, chunks, pairs)
    write_jsonl(project.root / DROPPED_FILE, dropped)
    write_json(project.root / REPORT_FILE, report)
    totals = report["totals"]
    return {"chunks": totals["chunks"], "pairs": totals["pairs"], "new": totals["kept"],
            "replaced": totals["replaced"], "chunks_without_pairs": totals["chunks_without_pairs"],
            "coverage": report["coverage"]["ratio"], "totals": totals}


def reconcile(chunks: list[Chunk], results: list[ChunkResult], existing: list[Pair],
              pairs_cfg: PairsConfig) -> tuple[list[Pair], list[dict], dict]:
    """Validate every candidate; return (pairs to save, dropped rows, reconciliation report)."""
    rows = {c.id: chunk_row(c) for c in chunks}
    fresh, dropped = [], []
    for chunk, result in zip(chunks, results, strict=True):
        row = rows[chunk.id]
        row["error"], row["skipped"] = result.error, result.skipped
        per_fact: Counter = Counter()
        for n, candidate in enumerate(result.candidates):
            pair = new_pair(candidate.question, candidate.answer, pairs_cfg.generator, chunk, candidate.evidence,
                            fact=candidate.fact)
            over = per_fact[candidate.fact] >= pairs_cfg.max_questions_per_fact if candidate.fact \
                else n >= pairs_cfg.max_pairs_per_chunk
            reason = "over_limit" if over else rejection_reason(pair.question, pair.answer, pair.scores["grounding"],
                                                                pairs_cfg)
            row["candidates"] += 1
            if reason:
                dropped.append({**pair.to_dict(), "reason": reason})
            else:
                fresh.append(pair)
                per_fact[candidate.fact] += 1
    kept, duplicates = drop_duplicates(existing, fresh, pairs_cfg.duplicate_similarity)
    dropped += duplicates
    for pair in dropped:
        rows[pair["chunk_id"]]["dropped"][pair["reason"]] += 1
    for pair in kept:
        rows[pair.chunk_id]["kept"] += 1
    for pair in existing:
        if pair.chunk_id in rows:
            rows[pair.chunk_id]["protected" if is_protected(pair) else "existing"] += 1
    report = {"generator": pairs_cfg.generator, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "chunks": [finish_row(r) for r in rows.values()]}
    report["totals"] = report_totals(report["chunks"], existing, kept)
    return existing + kept, dropped, report


def drop_duplicates(existing: list[Pair], fresh: list[Pair], min_similarity: float) -> tuple[list[Pair], list[dict]]:
    """Fresh pairs whose question repeats an existing or an earlier fresh one are dropped: as
    ``duplicate`` when the answers agree too, as ``conflicting`` when the same question has
    another answer. Near-identical questions with different answers ("the Day Pass" / "the Week
    Pass") ask different things and are kept. Ids stay unique."""
    known_ids = {p.id for p in existing}
    pool = existing + fresh
    similar = near_duplicates([p.question for p in pool], min_similarity)
    kept, dropped = [], []
    for i, pair in enumerate(fresh, start=len(existing)):
        original = similar.get(i)
        reason = repeat_reason(pair, pool[original], min_similarity) if original is not None else None
        if reason is None and pair.id in known_ids:
            reason, original = "already_in_project", next(j for j, p in enumerate(pool) if p.id == pair.id)
        if reason:
            dropped.append({**pair.to_dict(), "reason": reason,
                            "scores": {**pair.scores, "duplicate_of": pool[original].id}})
        else:
            kept.append(pair)
            known_ids.add(pair.id)
    return kept, dropped


def repeat_reason(pair: Pair, earlier: Pair, min_similarity: float) -> str | None:
    """Why ``pair``, whose question is close to ``earlier``'s, must go (None: it asks something else)."""
    if same_answer(pair.answer, earlier.answer, min_similarity):
        return "duplicate"
    return "conflicting" if words_key(pair.question) == words_key(earlier.question) else None


def same_answer(answer: str, other: str, min_similarity: float) -> bool:
    """Near-identical wording with the same key facts: '13:00-16:00' and '16:00-19:00' differ."""
    facts = {f.text for f in key_facts(answer)} == {f.text for f in key_facts(other)}
    return facts and fuzz.ratio(words_key(answer), words_key(other)) >= min_similarity


def coverage_report(project: Project, chunks: list[Chunk], pairs: list[Pair]) -> dict:
    """Informative statements of the documents that some answer states, and those none does."""
    names = {s.id: s.original_name for s in project.sources()}
    read = [item for item in read_chunks(chunks) if not item.skipped]
    owner = {id(s): item.chunk for item in read for s in item.statements}
    report = coverage([s for item in read for s in item.statements], [p.answer for p in pairs])
    uncovered = [{"chunk_id": owner[id(s)].id, "document": names.get(owner[id(s)].source_id, "?"),
                  "heading": owner[id(s)].heading, "statement": s.text} for s in report.uncovered]
    return {"informative": report.informative, "covered": report.covered, "ratio": round(report.ratio, 4),
            "uncovered": uncovered[:MAX_UNCOVERED_LISTED], "uncovered_total": len(uncovered)}


def chunk_row(chunk: Chunk) -> dict:
    return {"chunk_id": chunk.id, "source_id": chunk.source_id, "heading": chunk.heading, "candidates": 0,
            "kept": 0, "dropped": Counter(), "protected": 0, "existing": 0, "error": None, "skipped": None}


def finish_row(row: dict) -> dict:
    return {**row, "dropped": dict(sorted(row["dropped"].items()))}


def report_totals(rows: list[dict], existing: list[Pair], kept: list[Pair]) -> dict:
    """Totals over all chunks; ``check_report`` verifies they add up."""
    dropped: Counter = Counter()
    for row in rows:
        dropped.update(row["dropped"])
    protected = sum(is_protected(p) for p in existing)
    return {"chunks": len(rows), "candidates": sum(r["candidates"] for r in rows),
            "kept": len(kept), "dropped": dict(sorted(dropped.items())), "dropped_total": sum(dropped.values()),
            "existing": len(existing), "protected": protected,
            "protected_without_chunk": protected - sum(r["protected"] for r in rows),
            "pairs": len(existing) + len(kept), "flagged": sum(bool(p.flags) for p in existing + kept),
            "chunks_failed": sum(r["error"] is not None for r in rows),
            "chunks_skipped": sum(r["skipped"] is not None for r in rows),
            "chunks_without_pairs": sum(r["kept"] + r["protected"] + r["existing"] == 0 for r in rows)}


def check_report(report: dict) -> list[str]:
    """Every way the report's numbers fail to add up (empty when they are consistent)."""
    problems = []
    for row in report["chunks"]:
        if row["candidates"] != row["kept"] + sum(row["dropped"].values()):
            problems.append(f"chunk {row['chunk_id']}: candidates != kept + dropped")
    t = report["totals"]
    if t["candidates"] != t["kept"] + t["dropped_total"]:
        problems.append("total candidates != kept + dropped")
    if t["kept"] != sum(r["kept"] for r in report["chunks"]):
        problems.append("total kept != sum over chunks")
    if t["pairs"] != t["kept"] + t["existing"]:
        problems.append("pairs != kept + existing")
    return problems


def load_report(project: Project) -> dict | None:
    """The last reconciliation report of the project (None before the first generation)."""
    return read_json(project.root / REPORT_FILE)


def format_report(report: dict, max_rows: int = 0) -> str:
    """The report as text: one line per chunk (all of them unless ``max_rows``), then totals and coverage."""
    lines = [f"{'chunk':16}  {'cand':>4}  {'kept':>4}  {'prot':>4}  dropped / why none   heading"]
    rows = report["chunks"][:max_rows] if max_rows else report["chunks"]
    for r in rows:
        why = ", ".join(f"{k} {v}" for k, v in r["dropped"].items()) or "-"
        for note in ("error", "skipped"):
            if r.get(note):
                why += f"; {r[note]}" if note == "skipped" else f"; error: {r[note]}"
        lines.append(f"{r['chunk_id']:16}  {r['candidates']:4}  {r['kept']:4}  {r['protected']:4}  {why:17} {r['heading']}")
    if max_rows and len(report["chunks"]) > max_rows:
        lines.append(f"... {len(report['chunks']) - max_rows} more chunks")
    t = report["totals"]
    why = ", ".join(f"{k} {v}" for k, v in t["dropped"].items()) or "none"
    lines.append(f"total: {t['candidates']} candidates = {t['kept']} kept + {t['dropped_total']} dropped ({why}); "
                 f"{t['pairs']} pairs = {t['kept']} new + {t['existing']} already there ({t['protected']} reviewed); "
                 f"{t.get('replaced', 0)} replaced; {t['flagged']} flagged; {t['chunks_without_pairs']} of "
                 f"{t['chunks']} chunks without pairs ({t['chunks_skipped']} skipped, {t['chunks_failed']} failed)")
    if "coverage" in report:
        lines.append(coverage_line(report["coverage"]))
    return "\n".join(lines)


def coverage_line(cov: dict) -> str:
    """'coverage: 491 of 496 informative statements (99.0%) are stated by some answer'."""
    return (f"coverage: {cov['covered']} of {cov['informative']} informative statements ({cov['ratio']:.1%}) "
            f"are stated by some answer; {cov['uncovered_total']} uncovered")
