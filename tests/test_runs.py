"""Runs (``builder.runs``): a tuned model always loads on the base model its run trained on.

    .venv/bin/python -m pytest tests/test_runs.py -q
"""

import json

import pytest

from builder.errors import AdapterError
from builder.project import Project
from builder.runs import Run, chat_settings, load_engine, newest_trained_run, trained_run
from builder.storage import write_jsonl
from builder.templates import sample_heldout
from dab.cli import main

from .support import make_other_base, make_run


def test_changing_the_project_model_after_training_keeps_the_runs_base(tiny_model_dir, tiny_adapter, tmp_path,
                                                                      capsys, monkeypatch):
    project = Project.create(tmp_path / "project")
    cfg = project.load_config()
    cfg.train.base_model, cfg.chat.max_new_tokens = str(tiny_model_dir), 6
    project.save_config(cfg)
    run = make_run(project, tiny_adapter)  # trained on the tiny model: its config.yaml says so
    cfg.train.base_model = str(make_other_base(tmp_path / "other-model", tiny_model_dir))  # a new choice, later
    project.save_config(cfg)
    root = str(project.root)

    assert run.base_model(project.load_config()) == str(tiny_model_dir) != cfg.train.base_model
    assert load_engine(run, project.load_config()).model.config.hidden_size == 64, "not the other model's 32"
    assert main(["chat", "--project", root, "-m", "where is the depot ?"]) == 0
    assert capsys.readouterr().out.strip()
    write_jsonl(tmp_path / "heldout.jsonl", sample_heldout()[:2])
    assert main(["eval", "--project", root, "--heldout", str(tmp_path / "heldout.jsonl")]) == 0
    assert run.eval_report()["sets"]["recall"] == 2
    served = {}
    monkeypatch.setattr("builder.serve.serve", lambda engine, *args, **kwargs: served.update(engine=engine))
    assert main(["serve", "--project", root]) == 0
    assert served["engine"].merged and served["engine"].model.config.hidden_size == 64
    assert main(["export", "--project", root, "--out", str(tmp_path / "out"), "--merged"]) == 0
    assert json.loads((tmp_path / "out" / "merged" / "config.json").read_text())["hidden_size"] == 64
    assert str(tiny_model_dir) in (tmp_path / "out" / "adapter" / "README.md").read_text()


def test_the_wizard_and_demo_engine_is_the_runs_too(tiny_model_dir, tiny_adapter, tmp_path):
    from ui.engines import get_engine

    project = Project.create(tmp_path / "project")
    cfg = project.load_config()
    cfg.train.base_model = str(tiny_model_dir)
    project.save_config(cfg)
    run = make_run(project, tiny_adapter)
    cfg.train.base_model = str(make_other_base(tmp_path / "other-model", tiny_model_dir))
    assert get_engine(run, cfg).model.get_base_model().config.hidden_size == 64


def test_runs_are_found_by_what_they_hold(tiny_adapter, tmp_path):
    project = Project.create(tmp_path / "project")
    with pytest.raises(AdapterError, match="no trained adapter yet"):
        trained_run(project)
    older, newer = make_run(project, tiny_adapter), make_run(project, tiny_adapter)
    (newer.adapter_dir / "adapter_config.json").unlink()  # finished, but its adapter is gone
    assert newest_trained_run(project) == older == trained_run(project)
    assert trained_run(project, tiny_adapter) == Run(tiny_adapter.parent)
    older.config_path.write_text("chat:\n  system_prompt: you answer for the commons\n")
    assert chat_settings(project.load_config(), older).system_prompt == "you answer for the commons"
    assert chat_settings(project.load_config(), Run(tiny_adapter.parent)).system_prompt != "you answer for the commons"
