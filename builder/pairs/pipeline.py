"""Generate, validate, deduplicate and reconcile pairs for a whole project.

    summary = generate_pairs(project)            # uses project.yaml's pairs section
    print(format_report(load_report(project)))   # what `dab pairs --report` prints

Every candidate a generator proposes ends up either in ``pairs.jsonl`` or in
``pairs_dropped.jsonl`` with its reason (empty, garbled, too_long, too_short, ungrounded,
over_limit, duplicate, already_reviewed), so nothing is lost silently. The reconciliation
report (``pairs_report.json``) lists every chunk with its candidates, kept pairs, dropped pairs
per reason, protected (user-judged) pairs and generator error; per chunk and in total,
``candidates == kept + dropped``, and ``pairs in the file == kept + protected``.
"""

import time
from collections import Counter

from ..config import PairsConfig
from ..errors import ConfigError, ProjectError
from ..project import Project
from ..records import Chunk, Pair
from ..storage import read_json, write_json, write_jsonl
from .base import GENERATORS, ChunkResult, is_protected, new_pair
from .validate import near_duplicates, rejection_reason

REPORT_FILE = "pairs_report.json"
DROPPED_FILE = "pairs_dropped.jsonl"


def generate_pairs(project: Project, pairs_cfg: PairsConfig | None = None, progress=None) -> dict:
    """Run the configured generator over every chunk; save pairs, dropped pairs and the report.

    ``progress``, if given, is called as ``progress(done_chunks, total_chunks)``.
    """
    pairs_cfg = pairs_cfg or project.load_config().pairs
    generator = GENERATORS.get(pairs_cfg.generator)
    if generator is None:
        raise ConfigError(f"unknown generator '{pairs_cfg.generator}' (known: {', '.join(sorted(GENERATORS))})")
    chunks = project.chunks()
    if not chunks:
        raise ProjectError("no chunks yet: add documents first (dab ingest)")
    results = generator(chunks, pairs_cfg, progress)
    protected = [p for p in project.pairs() if is_protected(p)]
    pairs, dropped, report = reconcile(chunks, results, protected, pairs_cfg)
    project.save_pairs(pairs)
    write_jsonl(project.root / DROPPED_FILE, dropped)
    write_json(project.root / REPORT_FILE, report)
    totals = report["totals"]
    return {"chunks": totals["chunks"], "pairs": totals["pairs"],
            "chunks_without_pairs": totals["chunks_without_pairs"], "totals": totals}


def reconcile(chunks: list[Chunk], results: list[ChunkResult], protected: list[Pair],
              pairs_cfg: PairsConfig) -> tuple[list[Pair], list[dict], dict]:
    """Validate every candidate; return (pairs to save, dropped rows, reconciliation report)."""
    rows = {c.id: chunk_row(c) for c in chunks}
    fresh, dropped = [], []
    for chunk, result in zip(chunks, results, strict=True):
        row = rows[chunk.id]
        row["error"] = result.error
        for n, candidate in enumerate(result.candidates):
            pair = new_pair(candidate.question, candidate.answer, pairs_cfg.generator, chunk, candidate.evidence)
            reason = "over_limit" if n >= pairs_cfg.max_pairs_per_chunk else rejection_reason(
                pair.question, pair.answer, pair.scores["grounding"], pairs_cfg)
            row["candidates"] += 1
            if reason:
                dropped.append({**pair.to_dict(), "reason": reason})
            else:
                fresh.append(pair)
    kept, duplicates = drop_duplicates(protected, fresh, pairs_cfg.duplicate_similarity)
    dropped += duplicates
    for pair in dropped:
        rows[pair["chunk_id"]]["dropped"][pair["reason"]] += 1
    for pair in kept:
        rows[pair.chunk_id]["kept"] += 1
    for pair in protected:
        if pair.chunk_id in rows:
            rows[pair.chunk_id]["protected"] += 1
    report = {"generator": pairs_cfg.generator, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "chunks": [finish_row(r) for r in rows.values()]}
    report["totals"] = report_totals(report["chunks"], protected, kept)
    return protected + kept, dropped, report


def drop_duplicates(protected: list[Pair], fresh: list[Pair], min_similarity: float) -> tuple[list[Pair], list[dict]]:
    """Fresh pairs that repeat a protected pair or an earlier fresh pair are dropped.

    A repeat is either near-identical text or the same pair id (the same question about the
    same chunk, written differently only in case or punctuation), so ids stay unique.
    """
    protected_ids = {p.id for p in protected}
    pool = protected + fresh
    duplicate_of = near_duplicates([f"{p.question}\n{p.answer}" for p in pool], min_similarity)
    kept, dropped, kept_ids = [], [], set()
    for i, pair in enumerate(fresh, start=len(protected)):
        if pair.id in protected_ids:
            dropped.append({**pair.to_dict(), "reason": "already_reviewed"})
        elif i in duplicate_of or pair.id in kept_ids:
            original = pool[duplicate_of[i]].id if i in duplicate_of else pair.id
            scores = {**pair.scores, "duplicate_of": original}
            dropped.append({**pair.to_dict(), "reason": "duplicate", "scores": scores})
        else:
            kept.append(pair)
            kept_ids.add(pair.id)
    return kept, dropped


def chunk_row(chunk: Chunk) -> dict:
    return {"chunk_id": chunk.id, "source_id": chunk.source_id, "heading": chunk.heading,
            "candidates": 0, "kept": 0, "dropped": Counter(), "protected": 0, "error": None}


def finish_row(row: dict) -> dict:
    return {**row, "dropped": dict(sorted(row["dropped"].items()))}


def report_totals(rows: list[dict], protected: list[Pair], kept: list[Pair]) -> dict:
    """Totals over all chunks; ``check_report`` verifies they add up."""
    dropped: Counter = Counter()
    for row in rows:
        dropped.update(row["dropped"])
    return {"chunks": len(rows), "candidates": sum(r["candidates"] for r in rows),
            "kept": len(kept), "dropped": dict(sorted(dropped.items())), "dropped_total": sum(dropped.values()),
            "protected": len(protected), "protected_without_chunk": len(protected) - sum(r["protected"] for r in rows),
            "pairs": len(protected) + len(kept),
            "flagged": sum(bool(p.flags) for p in protected + kept),
            "chunks_failed": sum(r["error"] is not None for r in rows),
            "chunks_without_pairs": sum(r["kept"] + r["protected"] == 0 for r in rows)}


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
    if t["pairs"] != t["kept"] + t["protected"]:
        problems.append("pairs != kept + protected")
    return problems


def load_report(project: Project) -> dict | None:
    """The last reconciliation report of the project (None before the first generation)."""
    return read_json(project.root / REPORT_FILE)


def format_report(report: dict, max_rows: int = 0) -> str:
    """The report as text: one line per chunk (all of them unless ``max_rows``), then totals."""
    lines = [f"{'chunk':16}  {'cand':>4}  {'kept':>4}  {'prot':>4}  dropped / error   heading"]
    rows = report["chunks"][:max_rows] if max_rows else report["chunks"]
    for r in rows:
        why = ", ".join(f"{k} {v}" for k, v in r["dropped"].items()) or "-"
        if r["error"]:
            why += f"; error: {r['error']}"
        lines.append(f"{r['chunk_id']:16}  {r['candidates']:4}  {r['kept']:4}  {r['protected']:4}  {why:17} {r['heading']}")
    if max_rows and len(report["chunks"]) > max_rows:
        lines.append(f"... {len(report['chunks']) - max_rows} more chunks")
    t = report["totals"]
    why = ", ".join(f"{k} {v}" for k, v in t["dropped"].items()) or "none"
    lines.append(f"total: {t['candidates']} candidates = {t['kept']} kept + {t['dropped_total']} dropped ({why}); "
                 f"{t['pairs']} pairs = {t['kept']} new + {t['protected']} reviewed; {t['flagged']} flagged; "
                 f"{t['chunks_without_pairs']} of {t['chunks']} chunks without pairs, {t['chunks_failed']} failed")
    return "\n".join(lines)
