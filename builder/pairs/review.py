"""The review model: statuses, edits, manual pairs and bulk decisions by filter.

    set_pair_status(project, pair_id, "accepted")
    edit_pair(project, pair_id, "New question?", "New answer.")
    add_manual_pair(project, "Who runs the workshop?", "Léa Marchetti.", chunk_id=None)
    bulk_set_status(project, "rejected", PairFilter(max_grounding=0.7))   # -> number changed
    apply_edits(project, [ReviewRow(pair_id, "accepted", question, answer, shown=shown_values(pair))])
                                                                  # a reviewed table -> number changed

Every change is one ``Project.edit_pairs`` block (the project's pairs lock), so two editors at
once (two processes, two wizard events, two tabs) never lose each other's change; a table saved
from a stale tab is refused row by row (``EditConflict``) instead of undoing another's edit.

A pair is ``pending`` until a person accepts, rejects or edits it; from then on regeneration
never touches it (``base.is_protected``). Training uses every pair except rejected ones and
pending pairs flagged ``instruction_like`` (those need a person's explicit acceptance).
"""

from dataclasses import dataclass, replace

from ..errors import ConfigError, EditConflict, ProjectError
from ..project import Project
from ..records import STATUSES, Pair
from .base import new_pair
from .validate import neutralize_control_tokens

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

    def matches(self, pair: Pair, chunk_sources: dict[str, str]) -> bool:
        grounding = pair.scores.get("grounding")
        grounding = 0.0 if grounding is None else grounding  # manual and imported pairs have no score
        text = f"{pair.question}\n{pair.answer}".lower()
        checks = [
            self.status is None or pair.status == self.status,
            self.generator is None or pair.generator == self.generator,
            self.flag is None or self.flag in pair.flags,
            self.chunk_id is None or pair.chunk_id == self.chunk_id,
            self.source_id is None or chunk_sources.get(pair.chunk_id) == self.source_id,
            self.min_grounding is None or grounding >= self.min_grounding,
            self.max_grounding is None or grounding <= self.max_grounding,
            self.contains is None or self.contains.lower() in text,
        ]
        return all(checks)


def check_status(status: str) -> None:
    if status not in STATUSES:
        raise ConfigError(f"status must be one of {', '.join(STATUSES)}")


def set_pair_status(project: Project, pair_id: str, status: str) -> Pair:
    """Accept / reject / reset one pair (a judged pair is protected from regeneration)."""
    check_status(status)
    return update_pair(project, pair_id, status=status)


def edit_pair(project: Project, pair_id: str, question: str, answer: str) -> Pair:
    """Save the user's own wording; the pair becomes ``edited`` and is never regenerated."""
    question, answer = clean_text(question, answer)
    return update_pair(project, pair_id, question=question, answer=answer, status="edited", edited_by_user=True)


def add_manual_pair(project: Project, question: str, answer: str, chunk_id: str | None = None) -> Pair:
    """Add a pair written by the user; with ``chunk_id`` it is grounded against that chunk."""
    question, answer = clean_text(question, answer)
    chunk = None
    if chunk_id is not None:
        chunk = next((c for c in project.chunks() if c.id == chunk_id), None)
        if chunk is None:
            raise ProjectError(f"no chunk with id {chunk_id}")
    pair = new_pair(question, answer, "manual", chunk)
    with project.edit_pairs() as pairs:
        if any(p.id == pair.id for p in pairs):
            raise ProjectError("this pair is already in the project")
        pairs.append(pair)
    return pair


def bulk_set_status(project: Project, status: str, selection: PairFilter) -> int:
    """Set ``status`` on every pair the filter matches; returns how many changed."""
    check_status(status)
    chunk_sources = {c.id: c.source_id for c in project.chunks()}
    changed = 0
    with project.edit_pairs() as pairs:
        for pair in pairs:
            if selection.matches(pair, chunk_sources) and pair.status != status:
                pair.status = status
                changed += 1
    return changed


@dataclass(frozen=True)
class ReviewRow:
    """One row of a saved review table: the pair's status and text as saved, and as the table
    showed them when it was loaded (``shown``: ``shown_values(pair)`` then; None when the
    table never loaded this pair)."""

    pair_id: str
    status: str
    question: str
    answer: str
    shown: tuple[str, str, str] | None

    def __post_init__(self) -> None:
        if self.shown is not None:  # a list from JSON or a UI state compares like the tuple
            object.__setattr__(self, "shown", tuple(self.shown))

    @property
    def values(self) -> tuple[str, str, str]:
        return self.status, self.question, self.answer


def shown_values(pair: Pair) -> tuple[str, str, str]:
    """What a review table shows of a pair and lets the user change: (status, question, answer)."""
    return pair.status, pair.question, pair.answer


def apply_edits(project: Project, rows: list[ReviewRow]) -> int:
    """Save a reviewed table; returns how many pairs changed.

    A row the user left as the table showed it changes nothing, nor does a row of a pair the
    project never had (``shown`` None and no such pair). A changed row is applied to the
    stored pair (changed text is an edit, a changed status a judgement; both apply when a row has
    both, so an edited pair can still be accepted or rejected), unless that pair was changed or
    removed elsewhere since the table was loaded: then ``EditConflict`` names every such row and
    nothing is saved, as for a row with an invalid status or empty text (``ConfigError``). The
    whole save is one ``edit_pairs`` block, so it is all or nothing and no concurrent change is
    lost."""
    with project.edit_pairs() as pairs:
        index = {pair.id: i for i, pair in enumerate(pairs)}
        changed, conflicts = {}, []
        for number, row in enumerate(rows, start=1):
            stored = pairs[index[row.pair_id]] if row.pair_id in index else None
            if row.values == row.shown or (stored is None and row.shown is None) or (
                    stored is not None and row.values == shown_values(stored)):
                continue  # untouched, not a pair of this project, or already as saved
            if stored is None or row.shown is None or shown_values(stored) != row.shown:
                conflicts.append(conflict_note(number, row, removed=stored is None))
                continue
            changed[row.pair_id] = reviewed(stored, row.status, row.question, row.answer)
        if conflicts:
            raise EditConflict("Nothing was saved. " + "; ".join(conflicts))
        for pair_id, pair in changed.items():
            pairs[index[pair_id]] = pair
    return len(changed)


def conflict_note(number: int, row: ReviewRow, removed: bool) -> str:
    what = "removed" if removed else "changed"
    question = (row.shown or row.values)[1]
    question = question if len(question) <= 60 else question[:57] + "..."
    return f"row {number} (\"{question}\"): this pair was {what} elsewhere since the table was loaded — reload"


def reviewed(pair: Pair, status: str, question: str, answer: str) -> Pair:
    """``pair`` after one row of review (the same object when the row changes nothing)."""
    text_changed = (question, answer) != (pair.question, pair.answer)
    after = pair
    if text_changed:
        question, answer = clean_text(question, answer)
        after = replace(pair, question=question, answer=answer, status="edited", edited_by_user=True)
    if status != pair.status and not (text_changed and status == "pending"):
        check_status(status)
        after = replace(after, status=status)
    return after


def clean_text(question: str, answer: str) -> tuple[str, str]:
    if not question.strip() or not answer.strip():
        raise ConfigError("question and answer cannot be empty")
    return neutralize_control_tokens(question.strip()), neutralize_control_tokens(answer.strip())


def update_pair(project: Project, pair_id: str, **changes) -> Pair:
    """Change fields of one pair (under the project's pairs lock); ProjectError if it is gone."""
    with project.edit_pairs() as pairs:
        for i, pair in enumerate(pairs):
            if pair.id == pair_id:
                pairs[i] = replace(pair, **changes)
                return pairs[i]
        raise ProjectError(f"no pair with id {pair_id}")


def training_pairs(pairs: list[Pair]) -> list[Pair]:
    """Pairs that go into training: not rejected, and not pending with a blocking flag."""
    def usable(pair: Pair) -> bool:
        blocked = pair.status == "pending" and BLOCKING_FLAGS & set(pair.flags)
        return pair.status != "rejected" and not blocked
    return [p for p in pairs if usable(p)]
