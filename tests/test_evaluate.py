"""Evaluation report on the tiny model: scores, per-question table, JSON + Markdown, ``dab eval``.

    .venv/bin/python -m pytest tests/test_evaluate.py -q
"""

import json
import math

import pytest

from builder.chat import answer
from builder.config import ChatConfig, ProjectConfig
from builder.evaluate import evaluate_run, greedy_answers, rouge_l, token_f1
from builder.project import Project
from builder.runs import RUN_COMPLETE_MARKER, Run
from builder.storage import write_jsonl
from builder.templates import sample_heldout
from dab.cli import main

from .support import make_adapter

PAIRS = sample_heldout()[:3]


def test_token_f1_and_rouge_l():
    assert token_f1("The depot opens at 8", "the depot opens at 8 am") == pytest.approx(2 * 1 * (5 / 6) / (1 + 5 / 6))
    assert token_f1("", "anything") == 0.0 and token_f1("bikes", "cars") == 0.0
    assert rouge_l("the depot opens at 8", "the depot opens at 8") == pytest.approx(1.0)
    assert rouge_l("8 at opens depot the", "the depot opens at 8") < 0.5  # order matters for ROUGE-L


def test_report_scores_both_models_and_is_saved(tiny_engine, tmp_path):
    cfg = ProjectConfig()
    cfg.chat.max_new_tokens = 10
    seen = []
    report = evaluate_run(tiny_engine, PAIRS, cfg, Run(tmp_path), on_progress=lambda f, m: seen.append(f))
    assert report["pairs"] == 3 and seen[-1] == 1.0
    for name in ("base", "tuned"):
        scores = report[name]
        assert scores["answer_nll"] > 0 and scores["perplexity"] == pytest.approx(math.exp(scores["answer_nll"]), rel=1e-3)
        assert 0 <= scores["token_f1"] <= 1 and 0 <= scores["rouge_l"] <= 1
    assert report["base"]["answer_nll"] != report["tuned"]["answer_nll"]
    rows = report["questions"]
    assert [r["question"] for r in rows] == [p["question"] for p in PAIRS]
    assert all(r["base_answer"] and r["tuned_answer"] for r in rows)
    assert any(r["base_answer"] != r["tuned_answer"] for r in rows)
    assert json.loads((tmp_path / "eval.json").read_text()) == report
    markdown = (tmp_path / "eval.md").read_text()
    assert "| question | reference | base answer | tuned answer |" in markdown
    assert PAIRS[0]["question"] in markdown and f"| rouge_l | {report['base']['rouge_l']} |" in markdown


def test_batched_greedy_answers_match_one_at_a_time(tiny_engine):
    questions, budgets = [p["question"] for p in PAIRS], [3, 8, 5]
    batched = greedy_answers(tiny_engine, questions, ChatConfig(), use_adapter=True, max_new_tokens=budgets, batch_size=3)
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
    assert '"pairs": 2' in out and "eval.md" in out
    assert json.loads((run / "eval.json").read_text())["pairs"] == 2 and (run / "eval.md").is_file()
