"""The review model: statuses, edits, manual pairs and bulk decisions by filter.

    set_pair_status(project, pair_id, "accepted")
    edit_pair(project, pair_id, "New question?", "New answer.")
    add_manual_pair(project, "Who runs the workshop?", "Léa Marchetti.", chunk_id=None)
    bulk_set_status(project, "rejected", PairFilter(max_grounding=0.7))   # -> number changed
    set_status(project, [pair_id, ...], "rejected")                      # -> number changed
    move_pairs(project, [pair_id, ...], "eval")    # a person's choice: "train" or "eval" (``splits``)
    apply_edits(project, [ReviewRow(pair_id, "accepted", question, answer, shown=shown_values(pair))])
                                                                  # a reviewed table -> number changed

Every change is one ``Project.edit_pairs`` block (the project's pairs lock), so two editors at
once (two processes, two wizard events, two tabs) never lose each other's change; a table saved
from a stale tab is refused row by row (``EditConflict``) instead of undoing another's edit.

A pair is ``pending`` until a person accepts, rejects or edits it; from then on, as once a
person moved it between training and evaluation, regeneration never touches it
(``base.is_protected``). Training uses every pair except rejected ones and pending pairs
flagged ``instruction_like`` (those need a person's explicit acceptance).
"""

from dataclasses import dataclass, replace

from ..errors import ConfigError, EditConflict, ProjectError
from ..project import Project
from ..records import STATUSES, Pair
from .base import is_protected, new_pair
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


SPLITS = ("train", "eval")  # a person's choice of ``Pair.split``: always trains / always held out


def check_status(status: str) -> None:
    if status not in STATUSES:
        raise ConfigError(f"status must be one of {', '.join(STATUSES)} (got {status!r})")


def set_pair_status(project: Project, pair_id: str, status: str) -> Pair:
    """Accept / reject / reset one pair (a judged pair is protected from regeneration)."""
    check_status(status)
    return update_pair(project, pair_id, status=status)


def set_status(project: Project, pair_ids: list[str], status: str) -> int:
    """Set ``status`` on every pair named (all or none: ProjectError names unknown ids); returns how many changed."""
    check_status(status)
    return count_changed(update_pairs(project, pair_ids, status=status))


def move_pairs(project: Project, pair_ids: list[str], split: str) -> int:
    """Use the pairs named for training (``"train"``) or hold them out for evaluation (``"eval"``),
    whatever the automatic split would do (``splits.split_pairs``); returns how many changed."""
    if split not in SPLITS:
        raise ConfigError(f"a pair moves to 'train' or 'eval' (got {split!r})")
    return count_changed(update_pairs(project, pair_ids, split=split))


def count_changed(results: list[tuple[Pair, Pair]]) -> int:
    return sum(before != after for before, after in results)


def unreviewed_count(pairs: list[Pair]) -> int:
    """How many pairs a regeneration with ``replace`` removes: those nobody edited or judged."""
    return sum(not is_protected(p) for p in pairs)


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
    lost. Every row is checked before anything is written, and the refusal names every wrong
    row by its number in ``rows`` (``EditConflict`` when some row is stale)."""
    with project.edit_pairs() as pairs:
        index = {pair.id: i for i, pair in enumerate(pairs)}
        changed, problems, stale = {}, [], False
        for number, row in enumerate(rows, start=1):
            stored = pairs[index[row.pair_id]] if row.pair_id in index else None
            if row.values == row.shown or (stored is None and row.shown is None) or (
                    stored is not None and row.values == shown_values(stored)):
                continue  # untouched, not a pair of this project, or already as saved
            if stored is None or row.shown is None or shown_values(stored) != row.shown:
                stale = True
                what = "removed" if stored is None else "changed"
                problems.append(row_note(number, row, f"this pair was {what} elsewhere since the table was "
                                                      "loaded — reload"))
                continue
            try:
                changed[row.pair_id] = reviewed(stored, row.status, row.question, row.answer)
            except ConfigError as exc:
                problems.append(row_note(number, row, str(exc)))
        if problems:
            raise (EditConflict if stale else ConfigError)("Nothing was saved. " + "; ".join(problems))
        for pair_id, pair in changed.items():
            pairs[index[pair_id]] = pair
    return len(changed)


def row_note(number: int, row: ReviewRow, problem: str) -> str:
    """'row 3 ("When does the depot open?"): <problem>' (the question as the table showed it)."""
    question = (row.shown or row.values)[1]
    question = question if len(question) <= 60 else question[:57] + "..."
    return f"row {number} (\"{question}\"): {problem}"


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
    empty = [name for name, text in (("question", question), ("answer", answer)) if not text.strip()]
    if empty:
        raise ConfigError(f"the {' and the '.join(empty)} cannot be empty")
    return neutralize_control_tokens(question.strip()), neutralize_control_tokens(answer.strip())


def update_pair(project: Project, pair_id: str, **changes) -> Pair:
    """Change fields of one pair (under the project's pairs lock); ProjectError if it is gone."""
    return update_pairs(project, [pair_id], **changes)[0][1]


def update_pairs(project: Project, pair_ids: list[str], **changes) -> list[tuple[Pair, Pair]]:
    """Change the same fields of every pair named, in one ``edit_pairs`` block; returns (before,
    after) per pair. An unknown id changes nothing: ProjectError names every unknown one."""
    with project.edit_pairs() as pairs:
        index = {pair.id: i for i, pair in enumerate(pairs)}
        unknown = [pair_id for pair_id in pair_ids if pair_id not in index]
        if unknown or not pair_ids:
            raise ProjectError(f"no pair with id {', '.join(unknown)}; nothing was changed" if unknown
                               else "no pair named; nothing was changed")
        results = []
        for pair_id in dict.fromkeys(pair_ids):
            before = pairs[index[pair_id]]
            pairs[index[pair_id]] = replace(before, **changes)
            results.append((before, pairs[index[pair_id]]))
    return results


def training_pairs(pairs: list[Pair]) -> list[Pair]:
    """Pairs that go into training: not rejected, and not pending with a blocking flag."""
    def usable(pair: Pair) -> bool:
        blocked = pair.status == "pending" and BLOCKING_FLAGS & set(pair.flags)
        return pair.status != "rejected" and not blocked
    return [p for p in pairs if usable(p)]
