"""Evaluation report on the tiny model: scores, per-question table, JSON + Markdown, ``dab eval``.

    .venv/bin/python -m pytest tests/test_evaluate.py -q
"""

import json
import math

import pytest

from builder import torch_thread
from builder.chat import answer
from builder.config import ChatConfig, PairsConfig
from builder.eval_report import verdict
from builder.evaluate import abstained, evaluate_run, rouge_l, token_f1
from builder.generation import greedy_texts, states_facts
from builder.project import Project
from builder.runs import RUN_COMPLETE_MARKER, Run
from builder.splits import split_pairs
from builder.storage import write_jsonl
from builder.templates import sample_heldout
from dab.cli import main

from .support import copy_project, make_adapter, make_run

PAIRS = sample_heldout()[:3]


def test_token_f1_and_rouge_l():
    assert token_f1("The depot opens at 8", "the depot opens at 8 am") == pytest.approx(2 * 1 * (5 / 6) / (1 + 5 / 6))
    assert token_f1("", "anything") == 0.0 and token_f1("bikes", "cars") == 0.0
    assert rouge_l("the depot opens at 8", "the depot opens at 8") == pytest.approx(1.0)
    assert rouge_l("8 at opens depot the", "the depot opens at 8") < 0.5  # order matters for ROUGE-L


def test_states_facts_checks_key_facts_tolerantly_and_abstentions_are_seen():
    ref = {"question": "How much is a Day Pass?", "answer": "A Day Pass costs €4.50 and lasts 24 hours."}
    assert states_facts("It is €4.50 for 24 hours.", ref) is True
    assert states_facts("It is €5.00 for 24 hours.", ref) is False
    assert states_facts("Anything.", {"question": "Why?", "answer": "Because it is nice."}) is None
    given = {"question": "Who runs it?", "answer": "Henrike.", "key_facts": ["Henrike Lasswell-Obi", "seven"]}
    assert states_facts("Henrike Lasswell-Obi, for seven years", given) and not states_facts("Henrike", given)
    assert abstained("The documents do not cover this.") and abstained("They don’t cover that, sorry.")
    assert not abstained("The Day Pass costs €4.50.")


def test_a_generated_answer_is_checked_on_its_direct_part_not_every_figure_of_its_quote():
    quote = "On Wednesdays we open at 10:00 am, because of staff training, and close at 4:30 pm as usual."
    ref = {"question": "When do you open on Wednesdays?", "answer": f"At 10:00 am. {quote}", "evidence": quote}
    assert states_facts("We open at 10:00 am.", ref) is True
    assert states_facts("We open at 9:00 am and close at 4:30 pm.", ref) is False
    assert states_facts("We open at 10:00 am.", {**ref, "evidence": ""}) is False, "without the quote: every figure"
    yes = {"question": "Is there a lift?", "answer": f"Yes. {quote}", "evidence": quote}
    assert states_facts("Yes.", yes) is False, "a direct part without key facts: the quote's facts are checked"


def held_out_run(project: Project, adapter) -> Run:
    """A finished run of ``project`` whose held-out pairs are the project's splits."""
    run = make_run(project, adapter)
    run.save_heldout(split_pairs(project.pairs(), PairsConfig(eval_fraction=0.1, recall_fraction=0.2)))
    return run


def test_report_asks_every_set_both_models_closed_and_open_book(train_template, tiny_adapter, tiny_engine, tmp_path):
    project = copy_project(train_template, tmp_path / "p")
    cfg = project.load_config()
    cfg.chat.max_new_tokens = 10
    run = held_out_run(project, tiny_adapter)
    seen = []
    report = evaluate_run(tiny_engine, project, cfg, run, on_progress=lambda f, m: seen.append(f))
    assert seen[-1] == 1.0 and report["sets"]["recall"] > 0 and report["sets"]["unseen"] > 0
    assert report["sets"]["unanswerable"] > 0  # out-of-scope questions made for this project
    for name in ("recall", "unseen"):
        result = report["results"][name]
        for mode in ("closed", "open"):
            for model in ("base", "tuned"):
                scores = result[mode][model]
                assert 0 <= scores["fact_accuracy"] <= 1 and scores["facts_checked"] > 0
        closed = result["closed"]
        assert closed["tuned"]["perplexity"] == pytest.approx(math.exp(closed["tuned"]["answer_nll"]), rel=1e-3)
        assert closed["base"]["answer_nll"] != closed["tuned"]["answer_nll"]
        assert 0 <= result["retrieval"]["recall_at_k"] <= 1
    rows = report["questions"]
    assert {r["set"] for r in rows} == {"recall", "unseen", "unanswerable"}
    assert all(r[f"{m}_{mode}"] is not None for r in rows for m in ("base", "tuned") for mode in ("closed", "open"))
    assert any(r["passages"] for r in rows)
    assert report["headline"]["set"] == "recall" and json.loads(run.eval_path.read_text()) == report
    markdown = (run.folder / "eval.md").read_text()
    assert verdict(report) in markdown and "## recall" in markdown and rows[0]["question"] in markdown


def test_batched_greedy_answers_match_one_at_a_time(tiny_engine):
    questions, budgets = [p["question"] for p in PAIRS], [3, 8, 5]
    prompts = [tiny_engine.prompt_ids([{"role": "user", "content": q}], ChatConfig()) for q in questions]
    batched = torch_thread.call(lambda: greedy_texts(tiny_engine.model, tiny_engine.tokenizer, prompts, budgets, 3))
    assert batched == [answer(tiny_engine, q, ChatConfig(max_new_tokens=b)) for q, b in zip(questions, budgets)]


def tiny_project(root, model_dir):
    project = Project.create(root)
    cfg = project.load_config()
    cfg.train.base_model = str(model_dir)
    cfg.chat.max_new_tokens = 8
    project.save_config(cfg)
    return project


def test_dab_eval_writes_the_report(tiny_model_dir, tmp_path, capsys):
    project = tiny_project(tmp_path / "project", tiny_model_dir)
    assert main(["eval", "--project", str(project.root)]) == 2
    assert "no trained adapter" in capsys.readouterr().err
    run = project.new_run_dir()
    make_adapter(tiny_model_dir, run / "adapter")
    (run / RUN_COMPLETE_MARKER).write_text("completed\n")
    write_jsonl(tmp_path / "heldout.jsonl", PAIRS[:2])
    assert main(["eval", "--project", str(project.root), "--heldout", str(tmp_path / "heldout.jsonl")]) == 0
    out = capsys.readouterr().out
    assert '"recall": 2' in out and "eval.md" in out and "tuned model answered" in out
    assert json.loads((run / "eval.json").read_text())["sets"]["recall"] == 2 and (run / "eval.md").is_file()
