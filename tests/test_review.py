"""Review that cannot lose work, pairs moved between training and evaluation, coverage by document
and heading, and a trained model that knows when the pairs changed since (``review``, ``overview``,
``runs.pairs_changed``)."""

import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from builder.documents import ingest_and_chunk
from builder.errors import ConfigError, EditConflict, ProjectError
from builder.pairs import (ReviewRow, add_manual_pair, apply_edits, generate_pairs, move_pairs, set_status,
                           shown_values, training_pairs, unreviewed_count)
from builder.pairs.overview import coverage_gaps, documents_overview, pair_source, pair_uses
from builder.project import Project
from builder.runs import Run, pairs_changed
from builder.splits import split_pairs

DEPOT = ("# Opening hours\n\nThe depot opens at 07:00 on weekdays and at 09:00 on Saturdays.\n\n"
         "# Fees\n\nA day pass costs €6.00. A year pass costs €96.00.\n")
MENU = "# Menu\n\nHome | About | Contact\n"


def make_project(root: Path) -> Project:
    """Two documents: one with facts (rule pairs, some held out) and one with nothing to ask about."""
    docs = root.parent / f"{root.name}-docs"
    docs.mkdir(parents=True)
    (docs / "depot.md").write_text(DEPOT, encoding="utf-8")
    (docs / "menu.md").write_text(MENU, encoding="utf-8")
    project = Project.create(root)
    ingest_and_chunk(project, [docs / "depot.md", docs / "menu.md"])
    generate_pairs(project)
    return project


def copy_of(template: Project, folder: Path) -> Project:
    """A fresh copy of a project made once per module by ``make_project``."""
    shutil.copytree(template.root, folder / template.root.name)
    return Project.open(folder / template.root.name)


@pytest.fixture()
def project(tmp_path) -> Project:
    return make_project(tmp_path / "depot")


def rows_of(pairs) -> list[ReviewRow]:
    return [ReviewRow(p.id, p.status, p.question, p.answer, shown_values(p)) for p in pairs]


def uses(project: Project) -> dict[str, str]:
    return pair_uses(project.pairs(), project.load_config().pairs)


def test_a_save_names_every_wrong_row_and_saves_nothing(project):
    rows = rows_of(project.pairs()[:4])
    rows[0] = replace(rows[0], answer="At 07:00 on weekdays.")     # a good edit
    rows[1] = replace(rows[1], status="Reject")                     # a status typed by hand
    rows[3] = replace(rows[3], question="   ")                      # an emptied question
    before = (project.root / "pairs.jsonl").read_bytes()
    with pytest.raises(ConfigError) as refused:
        apply_edits(project, rows)
    message = str(refused.value)
    assert message.startswith("Nothing was saved.")
    assert "row 2" in message and "'Reject'" in message and "pending, accepted, rejected, edited" in message
    assert "row 4" in message and "the question cannot be empty" in message and "row 1" not in message
    assert (project.root / "pairs.jsonl").read_bytes() == before
    rows[1], rows[3] = replace(rows[1], status="rejected"), replace(rows[3], question="What does a day pass cost?")
    assert apply_edits(project, rows) == 3, "once fixed, every edit of the same table applies"
    saved = {p.id: p for p in project.pairs()}
    assert saved[rows[0].pair_id].answer == "At 07:00 on weekdays." and saved[rows[1].pair_id].status == "rejected"


def test_two_saves_at_once_lose_no_edit(project):
    """Two tabs save different pairs at the same moment, a third moves one: all three land."""
    pairs = project.pairs()
    for trial in range(5):
        tab_a, tab_b = rows_of(project.pairs()[:2]), rows_of(project.pairs()[2:4])
        start = threading.Barrier(3)
        errors = []

        def save(rows, answer):
            start.wait()
            try:
                apply_edits(project, [replace(rows[0], answer=answer)] + rows[1:])
            except Exception as exc:  # noqa: BLE001  (collected: the test fails on any)
                errors.append(exc)

        def move():
            start.wait()
            move_pairs(project, [pairs[5].id], "eval" if trial % 2 else "train")

        threads = [threading.Thread(target=save, args=(tab_a, f"Answer A{trial}.")),
                   threading.Thread(target=save, args=(tab_b, f"Answer B{trial}.")), threading.Thread(target=move)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        saved = {p.id: p for p in project.pairs()}
        assert not errors
        assert saved[pairs[0].id].answer == f"Answer A{trial}." and saved[pairs[2].id].answer == f"Answer B{trial}."
        assert saved[pairs[5].id].split == ("eval" if trial % 2 else "train")


def test_the_same_pair_saved_from_two_tabs_keeps_the_first_and_refuses_the_second(project):
    tab_a, tab_b = rows_of(project.pairs()[:1]), rows_of(project.pairs()[:1])
    apply_edits(project, [replace(tab_a[0], answer="First tab's answer.")])
    with pytest.raises(EditConflict, match="row 1 .*changed elsewhere"):
        apply_edits(project, [replace(tab_b[0], answer="Second tab's answer.")])
    assert project.pairs()[0].answer == "First tab's answer."


def test_moving_pairs_between_training_and_evaluation(project):
    held = next(p for p in project.pairs() if uses(project)[p.id] == "evaluation")
    trained = next(p for p in project.pairs() if uses(project)[p.id] == "training")
    assert move_pairs(project, [held.id, trained.id], "train") == 2
    assert uses(project)[held.id] == "training"
    assert move_pairs(project, [trained.id], "eval") == 1 and uses(project)[trained.id] == "evaluation"
    assert move_pairs(project, [trained.id], "eval") == 0, "already there"
    mine = add_manual_pair(project, "Is there a café?", "Yes, by the entrance.")
    assert uses(project)[mine.id] == "training", "a pair the person writes trains unless moved"
    before = (project.root / "pairs.jsonl").read_bytes()
    with pytest.raises(ProjectError, match="no pair with id nope, gone; nothing was changed"):
        move_pairs(project, [held.id, "nope", "gone"], "eval")
    with pytest.raises(ConfigError, match="'evaluation'"):
        move_pairs(project, [held.id], "evaluation")
    with pytest.raises(ConfigError, match="status must be one of .*'Reject'"):
        set_status(project, [held.id], "Reject")
    with pytest.raises(ProjectError, match="no pair with id nope"):
        set_status(project, [held.id, "nope"], "accepted")
    assert (project.root / "pairs.jsonl").read_bytes() == before, "a refused change changes nothing"
    set_status(project, [held.id], "rejected")
    assert uses(project)[held.id] == "not used"


def test_coverage_names_documents_and_passages_without_pairs(project):
    pairs = project.pairs()
    rows = {row["document"]: row for row in documents_overview(project, pairs, uses(project))}
    assert rows["menu.md"] == {"document": "menu.md", "passages": 1, "passages_with_pairs": 0, "pairs": 0,
                               "training": 0, "evaluation": 0}
    depot = rows["depot.md"]
    assert depot["pairs"] == len(pairs) == depot["training"] + depot["evaluation"] and depot["evaluation"] > 0
    cov, gaps = coverage_gaps(project, pairs)
    assert [(g.document, g.heading) for g in gaps] == [("menu.md", "Menu")]
    assert "nothing to ask about" in gaps[0].why and cov["covered"] == cov["informative"] == 3
    fees = [p for p in pairs if "pass" in p.answer]
    set_status(project, [p.id for p in fees], "rejected")
    _, gaps = coverage_gaps(project, project.pairs())
    fee_gap = next(g for g in gaps if g.heading == "Fees")
    assert fee_gap.why == "its pairs were rejected" and fee_gap.statement.startswith("A day pass costs €6.00")
    add_manual_pair(project, "What does a day pass cost?", "A day pass costs €6.00.", chunk_id=fee_gap.chunk_id)
    _, gaps = coverage_gaps(project, project.pairs())
    assert [(g.heading, g.text) for g in gaps if g.heading == "Fees"] == [
        ("Fees", "A year pass costs €96.00.")], "the written pair covers the passage; its other fact is still open"


def test_a_pairs_source_passage_and_evidence(project):
    pair = next(p for p in project.pairs() if "day pass" in p.question)
    source = pair_source(project, pair)
    assert (source.document, source.heading) == ("depot.md", "Fees")
    start, end = source.evidence
    assert source.text[start:end] == pair.evidence["text"] and "€6.00" in source.text[start:end]
    assert pair_source(project, add_manual_pair(project, "Q?", "A.")) is None


def test_replacing_counts_exactly_the_unreviewed_pairs(project):
    pairs = project.pairs()
    set_status(project, [pairs[0].id], "accepted")
    move_pairs(project, [pairs[1].id], "eval")  # a person's move is a review too
    going = unreviewed_count(project.pairs())
    assert going == len(pairs) - 2
    summary = generate_pairs(project, replace=True)
    after = {p.id: p for p in project.pairs()}
    assert summary["replaced"] == going and pairs[0].id in after and after[pairs[1].id].split == "eval"
    assert generate_pairs(project)["replaced"] == 0, "a plain generation adds"


def fake_run(project: Project) -> Run:
    """A finished run that recorded the project's pairs as they are now (data.json, heldout.jsonl)."""
    from builder.runs import data_fingerprint
    from builder.storage import write_json

    run = Run(project.new_run_dir())
    pairs = training_pairs(project.pairs())
    write_json(run.data_path, {"fingerprint": data_fingerprint(pairs)})
    run.save_heldout(split_pairs(pairs, project.load_config().pairs))
    return run


def test_a_run_knows_when_the_pairs_changed_since_it_trained(project):
    run = fake_run(project)
    assert not pairs_changed(project, run)
    trained = next(p for p in project.pairs() if uses(project)[p.id] == "training")
    move_pairs(project, [trained.id], "eval")
    assert pairs_changed(project, run), "a pair moved to evaluation changes what the model learns"
    move_pairs(project, [trained.id], "train")
    assert not pairs_changed(project, run)
    apply_edits(project, [replace(rows_of([trained])[0], answer="Changed answer.")])
    assert pairs_changed(project, run)
    assert not pairs_changed(project, Run(project.new_run_dir())), "a run without a data record never reads as changed"
