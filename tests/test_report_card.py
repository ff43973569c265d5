"""The report card in plain words, the demo page, the wizard's API and dataset panels: fast, no server.

    .venv/bin/python -m pytest tests/test_report_card.py -q
"""

import json
import math
import socket
import subprocess
import sys

import gradio as gr
import pytest

from builder.api_server import curl_example, server_info, start_server, stop_server
from builder.errors import ConfigError, ProcessStartError
from builder.eval_report import base_model_note, report_files, report_markdown, verdict
from builder.processes import port_taken, wait_ready
from builder.project import Project
from builder.pairs.base import new_pair
from builder.splits import Splits

from .support import handbook_project, make_run, sample_report


def with_scores(tuned_closed: float, tuned_open: float, base_closed: float = 0.0, base_open: float = 0.0,
                questions: int = 33) -> dict:
    report = sample_report()
    report["headline"].update(tuned_closed=tuned_closed, tuned_open=tuned_open, base_closed=base_closed,
                              base_open=base_open, questions=questions)
    return report


def test_verdict_counts_right_answers_and_advises_by_the_score():
    good = verdict(with_scores(19 / 33, 25 / 33))
    assert good.startswith("The tuned model answered 19 of 33 questions correctly from memory (the original: 0)")
    assert "25 of 33 reading the documents" in good and "Good enough to try" in good
    assert 'keep "Answer from the documents" on' in good and "rough" not in good
    low = verdict(with_scores(3 / 33, 4 / 33))
    assert "Not reliable yet" in low and "more or better pairs" in low and "larger base model" in low
    middle = verdict(with_scores(0.4, 0.3))
    assert "Useful, with mistakes" in middle and "Answer from the documents" not in middle  # memory did better
    same = verdict(with_scores(0.1, 0.2, base_closed=0.1, base_open=0.25))
    assert same.count("Training has not helped yet") == 1 and "Thorough preset" in same
    assert "Only 7 questions could be checked" in verdict(sample_report())


def test_verdict_without_a_checkable_question_says_what_to_do():
    report = sample_report() | {"headline": {}}
    assert verdict(report).startswith("No question with a checkable fact was asked")


def test_markdown_report_names_measures_in_plain_words():
    markdown = report_markdown(sample_report())
    assert "| right facts | 0.0 | 0.5714 | 0.2857 | 0.8571 |" in markdown
    assert "## What the measures mean" in markdown and "- **word overlap**:" in markdown
    assert "| token_f1 |" not in markdown and "## recall: questions about the trained facts" in markdown


def test_report_files_write_the_markdown_of_an_older_report(project_dir, tiny_adapter):
    project = Project.create(project_dir)
    run = make_run(project, tiny_adapter)  # eval.json only, as reports saved before eval.md existed
    markdown, data = report_files(run)
    assert markdown.read_text().startswith("# Evaluation\n\nThe tuned model answered 4 of 7")
    assert json.loads(data.read_text())["headline"]["questions"] == 7
    (run.folder / "eval.json").unlink()
    assert report_files(run) is None


def test_a_report_from_another_base_model_says_so(project_dir, tiny_adapter):
    project = Project.create(project_dir)
    run = make_run(project, tiny_adapter)
    assert base_model_note(run, project.load_config()) == ""
    cfg = project.load_config()
    trained_on, cfg.train.base_model = cfg.train.base_model, "Qwen/Qwen2.5-0.5B-Instruct"
    project.save_config(cfg)
    note = base_model_note(run, project.load_config())
    assert f"trained on the base model `{trained_on}`" in note and "`Qwen/Qwen2.5-0.5B-Instruct`" in note
    assert run.name in note and "train again" in note


def test_report_card_views(project_dir, tiny_adapter):
    from ui import report

    project = Project.create(project_dir)
    button, summary, *_ = report.views(str(project.root))
    assert button.value == report.NO_MODEL and button.interactive is False and summary == report.NO_REPORT
    run = make_run(project, tiny_adapter)  # a report, but no held-out questions recorded
    button, summary, markdown, data, table, *charts, questions = report.views(str(project.root))
    assert button.value == report.NO_QUESTIONS and button.interactive is False
    assert "add pairs in step 2 and train again" in button.value
    assert summary.startswith("The tuned model answered 4 of 7") and "⚠️" not in summary
    assert markdown.visible and markdown.value["orig_name"] == "eval.md" and data.value["orig_name"] == "eval.json"
    assert set(table["measure"]) >= {"right facts", "word overlap", "surprise at the reference"}
    assert list(table.columns) == ["questions", "answers", "measure", "original", "tuned"]
    facts = dict(zip(charts[0]["bar"], charts[0]["percent"]))
    assert facts == {"base · memory": 0.0, "tuned · memory": 57.1, "base · documents": 28.6, "tuned · documents": 85.7}
    assert len(charts) == 3 and all(len(chart) == 4 for chart in charts) and len(questions) == 1
    run.save_heldout(Splits(recall=[new_pair("How much is a Day Pass?", "€4.50.", "test")]))
    cfg = project.load_config()
    cfg.train.base_model = "another/model"
    project.save_config(cfg)
    button, summary, *_ = report.views(str(project.root))
    assert button.value == report.EVALUATE and button.interactive is True
    assert "⚠️ This report is about run" in summary and "`another/model`" in summary


def test_empty_charts_keep_both_models():
    from ui.report import chart_frame

    frame = chart_frame(None, "fact_accuracy")
    assert list(frame["model"]) == ["base", "tuned"] and all(math.isnan(v) for v in frame["percent"])


def test_evaluate_without_held_out_questions_says_how_to_get_some(project_dir, tiny_adapter):
    from ui.report import on_evaluate

    project = Project.create(project_dir)
    with pytest.raises(gr.Error, match=r"Train a model first"):
        on_evaluate(str(project.root))
    make_run(project, tiny_adapter)
    with pytest.raises(gr.Error, match=r"No held-out questions: add pairs in step 2 and train again"):
        on_evaluate(str(project.root))


def test_demo_page_is_the_projects_assistant(tmp_path, tiny_model_dir, tiny_adapter):
    from ui.demo import demo_page

    project = handbook_project(tmp_path / "cycle_commons-handbook", tiny_model_dir)
    run = make_run(project, tiny_adapter)
    questions = [f"Question {n} about the depot?" for n in range(7)]
    run.save_heldout(Splits(recall=[new_pair(q, "At 07:30.", "test") for q in questions]))
    title, description, examples = demo_page(project, run)
    assert title == "Cycle commons handbook assistant"
    assert description.startswith("Ask about what these documents say: depot, fees, notes.")
    assert len(examples) == 3 and set(examples) <= set(questions) and examples[0] == questions[0]
    cfg = project.load_config()
    cfg.name, cfg.description = "<b>depot</b>", "Opening hours, fees and lost bikes at the depot."
    project.save_config(cfg)
    title, description, _ = demo_page(project, run)
    assert title == "&lt;b&gt;depot&lt;/b&gt; assistant"
    assert description.startswith("Opening hours, fees and lost bikes at the depot.\n\nAnswers come from")


def test_curl_example_is_a_valid_request():
    example = curl_example("http://127.0.0.1:8123/v1", "What's the fee?", with_key=True)
    assert example.startswith("curl -N http://127.0.0.1:8123/v1/chat/completions")
    assert 'Authorization: Bearer $DAB_SERVE_API_KEY' in example
    body = subprocess.run(["bash", "-c", "printf '%s' " + example.rsplit("-d ", 1)[1]], capture_output=True,
                          text=True, check=True).stdout
    assert json.loads(body) == {"messages": [{"role": "user", "content": "What's the fee?"}], "stream": True}


def test_api_server_refuses_a_port_in_use_and_starts_nothing(project_dir, tiny_adapter):
    project = Project.create(project_dir)
    run = make_run(project, tiny_adapter)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert port_taken("127.0.0.1", port)
        with pytest.raises(ConfigError, match=f"port {port} is in use"):
            start_server(project, run, port)
    with pytest.raises(ConfigError, match="out of range"):
        start_server(project, run, 80)
    assert not (project.root / "serve.log").exists() and server_info(project) is None
    assert stop_server(project) is False


def test_wait_ready_names_the_log_when_the_process_ends(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    with pytest.raises(ProcessStartError, match="The API server stopped while starting; see serve.log"):
        wait_ready(ended, lambda: None, "The API server", tmp_path / "serve.log", timeout_s=10, poll_s=0.05)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert wait_ready(running, lambda: {"url": "x"}, "The demo", tmp_path / "share.log", 5) == {"url": "x"}
        with pytest.raises(ProcessStartError, match="did not start within 0 s"):
            wait_ready(running, lambda: None, "The demo", tmp_path / "share.log", timeout_s=0.2, poll_s=0.05)
        assert running.wait(timeout=10) is not None  # stopped after the timeout
    finally:
        running.kill()


def test_transfer_text_gives_the_count_and_its_caveats():
    from builder.transfer import distance_report
    from ui.steps.documents import transfer_text

    report = distance_report(30.0, 15.0, have_pairs=120) | {"domain_tokens": 4096}
    text = transfer_text(report, "bundled")
    assert text.startswith("**Moderately far from general text.**") and "2.0 times as hard" in text
    assert "**Aim for about 850 pairs** (you have 120)" in text and "rule of thumb" in text


def test_transfer_check_without_documents_says_so(project_dir):
    from ui.steps.documents import on_transfer

    with pytest.raises(gr.Error, match="Add documents first"):
        on_transfer(str(Project.create(project_dir).root))


def test_pairs_import_adds_new_pairs_once_and_refuses_bad_files(project_dir, tmp_path):
    from ui.datasets import on_import

    project = Project.create(project_dir)
    good = tmp_path / "pairs.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"Q{n}?"}, {"role": "assistant", "content": f"A{n}."}]}
            for n in range(3)]
    good.write_text("".join(json.dumps(r) + "\n" for r in rows))
    message, cleared = on_import(str(good), "detect", str(project.root))
    assert message.startswith("**3 new pairs imported** from pairs.jsonl (0 were") and cleared is None
    assert "(3 were already in the project)" in on_import(str(good), "openai", str(project.root))[0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0]) + "\n" + json.dumps({"instruction": "", "output": "x"}) + "\n")
    with pytest.raises(gr.Error, match="bad.jsonl row 2"):
        on_import(str(bad), "detect", str(project.root))
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"instruction": "Qué?", "output": "Sí."}\n'.encode("latin-1"))
    with pytest.raises(gr.Error, match="latin.jsonl is not UTF-8 text"):
        on_import(str(latin), "detect", str(project.root))
    with pytest.raises(gr.Error, match="Choose a .jsonl or .json file"):
        on_import(None, "detect", str(project.root))
    assert len(project.pairs()) == 3  # nothing of the refused files was added


def test_hub_push_checks_the_name_pairs_and_token(project_dir, monkeypatch):
    from ui.datasets import on_push

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    project = Project.create(project_dir)
    for name in ("", "no-owner", "a/b/c", "../x/y"):
        with pytest.raises(gr.Error, match="owner/name"):
            on_push(name, True, str(project.root))
    with pytest.raises(gr.Error, match="no pairs to push yet"):
        on_push("team/pairs", True, str(project.root))
    with project.edit_pairs() as pairs:
        pairs.append(new_pair("Where is the depot?", "On Quay Street.", "test"))
    with pytest.raises(gr.Error, match="set HF_TOKEN"):
        on_push("team/pairs", True, str(project.root))


def test_opening_another_project_empties_every_steps_results(tmp_path, tiny_adapter):
    """The project switch reloads each step from the new project and empties what the last actions showed."""
    from ui import report
    from ui.app import build_app

    home = tmp_path / "projects"
    make_run(Project.create(home / "trained"), tiny_adapter)
    Project.create(home / "fresh")
    app = build_app(home, "trained")
    switch = next(dep for dep in app.fns.values() if getattr(dep.fn, "__name__", "") == "load_all")
    shown = dict(zip(switch.outputs, switch.fn(str(home / "trained"))))
    by_id = {c.elem_id: value for c, value in shown.items() if c.elem_id}
    assert by_id["report-verdict"].startswith("The tuned model answered 4 of 7")
    shown = dict(zip(switch.outputs, switch.fn(str(home / "fresh"))))
    by_id = {c.elem_id: value for c, value in shown.items() if c.elem_id}
    assert by_id["report-verdict"] == report.NO_REPORT and by_id["report-md"].visible is False
    assert by_id["chat-tuned"] == by_id["chat-base"] == [] and by_id["chat-input"] == ""
    assert by_id["transfer-result"] == "" and by_id["export-file"].visible is False
    assert by_id["serve-status"] == "The API is not running." and by_id["datasets-imported"] is None
    assert by_id["pairs-generated"] is None  # emptied, like the train plan and the pairs download
    assert len([value for value in shown.values() if value is None]) == 5  # + pairs download, panels
