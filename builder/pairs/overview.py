"""What the pairs cover, where each one comes from and what it is used for (the Pairs step, `dab review`).

    uses = pair_uses(project.pairs(), pairs_cfg)   # {pair id: "training" | "evaluation" | "not used"}
    rows = documents_overview(project, pairs, uses) # per document: passages, passages with pairs, pairs, uses
    cov, gaps = coverage_gaps(project, pairs)      # coverage now, and what no pair covers (by document, heading)
    source = pair_source(project, pair)            # the passage a pair came from, with its evidence span

"Training" and "evaluation" are ``splits.split_pairs`` over the pairs training uses
(``review.training_pairs``), exactly as the next training splits them; a rejected pair, or a
pending one that waits for a person's acceptance, is "not used". A gap is a passage without a
pair (with why: nothing to ask about, the generator failed, every candidate was dropped, its
pairs were rejected, or nothing generated yet) or an informative statement that no answer
states (``pipeline.coverage_report`` over the pairs as they are now, rejected ones left out).
"""

from dataclasses import dataclass

from ..config import PairsConfig
from ..project import Project
from ..records import Chunk, Pair
from ..splits import split_pairs
from .pipeline import coverage_report, load_report
from .review import training_pairs

USES = {"train": "training", "recall": "evaluation", "unseen": "evaluation"}
NOT_USED = "not used"
WRITTEN_BY_YOU = "written by you"  # the document column of pairs that come from no passage
PREVIEW_CHARS = 160


def pair_uses(pairs: list[Pair], pairs_cfg: PairsConfig) -> dict[str, str]:
    """``{pair id: "training" | "evaluation" | "not used"}`` as the next training would split them."""
    roles = split_pairs(training_pairs(pairs), pairs_cfg).roles()
    return {p.id: USES[roles[p.id]] if p.id in roles else NOT_USED for p in pairs}


def document_names(project: Project) -> dict[str, str]:
    """``{chunk id: the name of its document}``."""
    names = {s.id: s.original_name for s in project.sources()}
    return {c.id: names.get(c.source_id, "?") for c in project.chunks()}


def documents_overview(project: Project, pairs: list[Pair], uses: dict[str, str]) -> list[dict]:
    """One row per document, in upload order, then one for pairs written without a passage."""
    chunks, names = project.chunks(), {s.id: s.original_name for s in project.sources()}
    source_of = {c.id: c.source_id for c in chunks}
    rows = {s: {"document": name, "passages": 0, "passages_with_pairs": 0, "pairs": 0, "training": 0, "evaluation": 0}
            for s, name in names.items()}
    for chunk in chunks:
        rows[chunk.source_id]["passages"] += 1
    for chunk_id in {p.chunk_id for p in pairs if uses[p.id] != NOT_USED and p.chunk_id in source_of}:
        rows[source_of[chunk_id]]["passages_with_pairs"] += 1
    loose = {"document": WRITTEN_BY_YOU, "passages": 0, "passages_with_pairs": 0, "pairs": 0, "training": 0,
             "evaluation": 0}
    for pair in pairs:
        row = rows[source_of[pair.chunk_id]] if pair.chunk_id in source_of else loose
        row["pairs"] += 1
        if uses[pair.id] != NOT_USED:
            row[uses[pair.id]] += 1
    return list(rows.values()) + ([loose] if loose["pairs"] else [])


@dataclass(frozen=True)
class Gap:
    """Something of the documents no pair covers: a whole passage, or one statement of a passage."""

    chunk_id: str
    document: str
    heading: str
    text: str       # the statement, or the start of the passage
    why: str
    statement: str  # an uncovered statement of the passage ("" when there is none): a ready answer
    whole_passage: bool = False  # the passage has no pair at all (else: one statement of it is not stated)


def coverage_gaps(project: Project, pairs: list[Pair]) -> tuple[dict, list[Gap]]:
    """Coverage over the pairs now (``pipeline.coverage_report``), and the gaps: passages without
    a used pair first (with why), then uncovered statements of passages that have pairs."""
    chunks = project.chunks()
    used = [p for p in pairs if p.status != "rejected"]
    cov = coverage_report(project, chunks, used)
    first_uncovered: dict[str, str] = {}
    for item in cov["uncovered"]:
        first_uncovered.setdefault(item["chunk_id"], item["statement"])
    names, covered = document_names(project), {p.chunk_id for p in used}
    reasons = passage_reasons(load_report(project), {p.chunk_id for p in pairs})
    gaps = [Gap(c.id, names[c.id], c.heading, preview(c.text), reasons.get(c.id, "no pairs generated yet"),
                first_uncovered.get(c.id, ""), whole_passage=True) for c in chunks if c.id not in covered]
    gaps += [Gap(u["chunk_id"], u["document"], u["heading"], u["statement"], "no answer states this", u["statement"])
             for u in cov["uncovered"] if u["chunk_id"] in covered]
    return cov, gaps


def passage_reasons(report: dict | None, with_any_pair: set[str]) -> dict[str, str]:
    """Why each passage of the last generation's report has no pair in use."""
    reasons = {}
    for row in (report or {}).get("chunks", []):
        dropped = ", ".join(f"{n} {why}" for why, n in row["dropped"].items())
        if row["chunk_id"] in with_any_pair:
            reasons[row["chunk_id"]] = "its pairs were rejected"
        elif row.get("error"):
            reasons[row["chunk_id"]] = f"the generator failed: {row['error']}"
        elif row.get("skipped"):
            reasons[row["chunk_id"]] = f"nothing to ask about ({row['skipped']})"
        elif dropped:
            reasons[row["chunk_id"]] = f"every candidate was dropped ({dropped})"
        else:
            reasons[row["chunk_id"]] = "the generator proposed no question"
    return reasons


def preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 3] + "..."


@dataclass(frozen=True)
class PairSource:
    """The passage a pair came from; ``evidence``: the (start, end) of the answer's evidence in ``text``."""

    document: str
    heading: str
    text: str
    evidence: tuple[int, int] | None


def pair_source(project: Project, pair: Pair, chunks: list[Chunk] | None = None) -> PairSource | None:
    """The pair's passage (None for a pair written without one, or whose document was removed)."""
    chunk = next((c for c in chunks or project.chunks() if c.id == pair.chunk_id), None)
    if chunk is None:
        return None
    span = pair.evidence or {}
    start, end = span.get("start"), span.get("end")
    valid = isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(chunk.text)
    return PairSource(document_names(project).get(chunk.id, "?"), chunk.heading, chunk.text,
                      (start, end) if valid else None)
