"""The Pairs step's handlers, called directly: a refused save keeps the table as typed and names the
rows, replacing asks first with a count, a clicked pair shows its evidence, moves and gaps, and
the progress bar and Train step say when the pairs changed since the model was trained."""

import gradio as gr
import pandas as pd
import pytest

from builder.pairs import move_pairs, unreviewed_count
from builder.pairs.overview import pair_uses

from .test_review import copy_of, fake_run

TEACHER = ("rules", "bundled", "http://127.0.0.1:11434/v1", "", "", "general")  # generator, teacher fields, domain


@pytest.fixture()
def project(review_template, tmp_path):
    return copy_of(review_template, tmp_path)


def loaded(project):
    """The table and its base, as a page load shows them."""
    from ui.steps.pair_views import COLUMNS
    from ui.steps.pairs import refresh

    table, _, _, base, *_ = refresh(str(project.root))
    return pd.DataFrame(table, columns=COLUMNS), base


def filters(project):
    return str(project.root), "all", 0.0, "all"


def no_progress(*args, **kwargs):
    return None


def test_a_refused_save_keeps_the_table_and_names_the_rows(project):
    from ui.steps.pairs import PAGE_OUTPUTS, on_save

    table, base = loaded(project)
    table.iloc[0, 4] = "At 07:00 on weekdays."   # a good edit
    table.iloc[1, 1] = "Reject"                  # a status sent by hand (the browser cannot type one)
    table.iloc[2, 3] = ""                        # an emptied question
    before = (project.root / "pairs.jsonl").read_bytes()
    outputs = on_save(*filters(project), table, base)
    assert len(outputs) == PAGE_OUTPUTS + 1
    assert all(isinstance(out, type(gr.skip())) for out in outputs[:-1]), "the table and the rest stay as they were"
    message = outputs[-1]
    assert message.startswith("❌ Nothing was saved.") and "row 2" in message and "'Reject'" in message
    assert "row 3" in message and "question cannot be empty" in message
    assert (project.root / "pairs.jsonl").read_bytes() == before
    table.iloc[1, 1], table.iloc[2, 3] = "rejected", "When does the depot open on Saturdays?"
    outputs = on_save(*filters(project), table, base)
    assert outputs[-1] == "✅ 3 change(s) saved."
    assert [p.status for p in project.pairs()[:3]] == ["edited", "rejected", "edited"]


def test_replacing_asks_first_and_says_how_many_go(project):
    from ui.steps.pairs import PAGE_OUTPUTS, on_cancel_replace, on_confirm_replace, on_generate

    table, base = loaded(project)
    table.iloc[0, 4] = "My own answer."  # an unsaved edit: saved first, so it survives the replacement
    going = unreviewed_count(project.pairs()) - 1
    outputs = on_generate(*TEACHER, *filters(project), table, base, True, progress=no_progress)
    box, ask, message = outputs[PAGE_OUTPUTS:]
    assert box.visible is True and f"Replace {going} unreviewed pairs?" in ask and "your 1 reviewed" in ask
    assert "1 unsaved edit" in message and project.pairs()[0].answer == "My own answer."
    assert len(project.pairs()) == going + 1, "asking replaces nothing"
    assert on_cancel_replace()[1] == "Nothing was replaced."
    table, base = loaded(project)
    outputs = on_confirm_replace(*filters(project), table, base, progress=no_progress)
    assert f"{going} unreviewed pairs replaced" in outputs[-1] and outputs[PAGE_OUTPUTS].visible is False
    assert project.pairs()[0].answer == "My own answer."
    outputs = on_generate(*TEACHER, *filters(project), table, base, False, progress=no_progress)
    assert outputs[-1].startswith("✅ 0 new pairs"), "without replace a generation only adds"


def test_a_clicked_pair_shows_its_evidence_and_moves(project):
    from ui.steps.pairs import PAGE_OUTPUTS, on_select, pair_action

    table, base = loaded(project)
    row = next(i for i, q in enumerate(table["question"]) if "day pass" in q)
    pair_id, html = on_select(table, str(project.root), gr.SelectData(None, {"index": [row, 3], "value": ""}))
    pair = next(p for p in project.pairs() if p.id == pair_id)
    assert f"<mark>{pair.evidence['text']}</mark>" in html and "depot.md</b>" not in html and "depot.md › Fees" in html
    to_eval = pair_action(lambda p, ids: move_pairs(p, ids, "eval"), "Now held out for evaluation")
    outputs = to_eval(pair_id, *filters(project), table, base)
    assert outputs[-1] == "✅ Now held out for evaluation."
    shown = {r[0]: r[2] for r in outputs[0]}
    assert shown[pair_id] == "evaluation" and "used for <b>evaluation</b>" in outputs[PAGE_OUTPUTS]
    assert next(p for p in project.pairs() if p.id == pair_id).split == "eval"
    assert to_eval("", *filters(project), table, base)[-1] == "❌ Click a pair in the table first."


def test_a_gap_prefills_a_pair_that_trains(project):
    from ui.steps.coverage import on_gap
    from ui.steps.pairs import PAGE_OUTPUTS, on_add, refresh

    outputs = refresh(str(project.root))
    line, documents, gaps_table, gaps = outputs[5:PAGE_OUTPUTS]
    assert "No pair from menu.md" in line and list(gaps_table["document"]) == ["menu.md"]
    assert "1 passage(s) gave no pair, each with the reason" in line and "statement(s)" not in line
    assert documents.set_index("document").loc["menu.md", "pairs"] == 0
    question, answer, passage, box, shown = on_gap(gaps, str(project.root), gr.SelectData(None, {"index": [0, 2], "value": ""}))
    assert passage == gaps[0]["chunk_id"] and "Home | About | Contact" in shown and box.open is True
    assert on_gap(gaps, str(project.root), gr.SelectData(None, {"index": [7, 0], "value": ""}))[-1].startswith(
        "❌ That row is gone")
    table, base = loaded(project)
    outputs = on_add("What is on the menu?", "Home, About and Contact.", passage, *filters(project), table, base)
    assert outputs[-1] == "✅ Pair added: it is used for training."
    added = next(p for p in project.pairs() if p.question == "What is on the menu?")
    assert added.chunk_id == passage and pair_uses(project.pairs(), project.load_config().pairs)[added.id] == "training"
    assert "No pair from" not in outputs[5]


def test_train_and_evaluate_say_the_pairs_changed_since_training(project):
    from ui.progress import progress_html, project_progress
    from ui.steps.train import describe

    run = fake_run(project)
    run.write_status("completed")
    (run.folder / "adapter").mkdir()
    (run.folder / "adapter" / "adapter_config.json").write_text("{}")
    (run.folder / "COMPLETE").write_text("completed\n")
    (run.folder / "eval.json").write_text("{}")
    assert "pairs changed" not in progress_html(project_progress(project), "depot")
    move_pairs(project, [project.pairs()[0].id], "eval" if pair_uses(project.pairs(), project.load_config().pairs)[
        project.pairs()[0].id] == "training" else "train")
    html = progress_html(project_progress(project), "depot")
    assert html.count("(pairs changed since this model was trained)") == 2 and "Train" in html
    assert "Pairs changed since this model was trained" in describe(run)
