"""A model served by ``dab serve`` on 127.0.0.1 as the pairs teacher, set up from ``dab pairs`` and
from the wizard (gradio_client): Test connection lists the served model, a missing key and an
unknown model name are named, and a teacher whose replies hold no pair list fails with that
reason and leaves the project's pairs as they were.

    .venv/bin/python -m pytest tests/test_teacher_serve.py -q
"""

import pytest

from builder.pairs import load_report
from builder.project import Project
from dab.cli import main

from .support import depot_project, free_port, start_dab_serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KEY_ENV = "DAB_TEST_SERVED_KEY"


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_model_dir, tiny_adapter):
    """The tiny random model served twice: openly, and behind a key ($DAB_SERVE_API_KEY)."""
    tmp = tmp_path_factory.mktemp("served")
    open_server, open_url = start_dab_serve(tmp, "served", tiny_model_dir, tiny_adapter)
    keyed_server, keyed_url = start_dab_serve(tmp, "keyed", tiny_model_dir, tiny_adapter,
                                              {"DAB_SERVE_API_KEY": "s3cret"})
    yield open_url, keyed_url
    for process in (open_server, keyed_server):
        process.terminate()
        process.wait(10)


@pytest.fixture()
def project(tmp_path):
    """A project with a passage and its rule pairs: what a failed teacher run must not touch."""
    project = depot_project(tmp_path)
    cfg = project.load_config()
    cfg.pairs.max_new_tokens, cfg.pairs.max_retries, cfg.pairs.timeout_s = 16, 0, 60.0
    project.save_config(cfg)
    return project


def no_pair_list(message: str) -> bool:
    """The reason a random model's reply gave no pair (its words may or may not look like JSON)."""
    return "not JSON pairs" in message or "no valid pair in the teacher's reply" in message


def dab_pairs(project: Project, url: str, model: str, *extra: str) -> int:
    return main(["pairs", "--project", str(project.root), "--generator", "openai", "--base-url", url,
                 "--model", model, "--api-key-env", KEY_ENV, *extra])


def test_cli_with_a_served_model(served, project, capsys, monkeypatch):
    open_url, keyed_url = served
    before = (project.root / "pairs.jsonl").read_bytes()
    assert dab_pairs(project, open_url, "served", "--test-connection") == 0
    assert "1 model(s) served (served)" in capsys.readouterr().out
    assert dab_pairs(project, open_url, "other", "--test-connection") == 2
    assert "does not serve a model named 'other'; it serves: served" in capsys.readouterr().err
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert dab_pairs(project, keyed_url, "keyed", "--test-connection") == 2
    assert f"needs an API key (HTTP 401), and the environment variable {KEY_ENV} is not set" in capsys.readouterr().err
    monkeypatch.setenv(KEY_ENV, "s3cret")
    assert dab_pairs(project, keyed_url, "keyed", "--test-connection") == 0
    assert "1 model(s) served (keyed)" in capsys.readouterr().out
    # the served random model answers every passage with words, not a pair list
    assert dab_pairs(project, keyed_url, "keyed") == 2
    err = capsys.readouterr().err
    assert "no usable pair for any of the 1 passages" in err and no_pair_list(err)
    assert "The project's pairs were not changed." in err
    assert (project.root / "pairs.jsonl").read_bytes() == before
    assert "s3cret" not in project.config_path.read_text()


@pytest.fixture()
def wizard(project):
    from gradio_client import Client

    from ui.app import launch

    app, url = launch(project=project.root, port=free_port(), block=False)
    yield Client(url, verbose=False, download_files=False), project
    app.close()


def test_wizard_with_a_served_model(served, wizard, monkeypatch):
    client, project = wizard
    open_url, keyed_url = served
    verdict, models = client.predict("openai", "bundled", open_url, "", KEY_ENV, api_name="/test_teacher")
    assert verdict.startswith("✅") and "1 model(s) served (served)" in verdict and models["value"] == "served"
    saved = project.load_config().pairs
    assert (saved.generator, saved.base_url, saved.api_key_env) == ("openai", open_url, KEY_ENV)
    verdict, _ = client.predict("openai", "bundled", open_url, "other", KEY_ENV, api_name="/test_teacher")
    assert verdict.startswith("❌") and "does not serve a model named 'other'" in verdict
    monkeypatch.delenv(KEY_ENV, raising=False)
    verdict, _ = client.predict("openai", "bundled", keyed_url, "keyed", KEY_ENV, api_name="/test_teacher")
    assert verdict.startswith("❌") and f"{KEY_ENV} is not set" in verdict
    verdict, _ = client.predict("openai", "bundled", "http://127.0.0.1:1/v1", "m", "sk-live-abcdef123456",
                                api_name="/test_teacher")
    assert "not the key itself" in verdict and "sk-live" not in project.config_path.read_text()

    before = (project.root / "pairs.jsonl").read_bytes()
    table, counts, *_, generated = client.predict("openai", "bundled", open_url, "served", KEY_ENV, "general",
                                                  "all", 0, "all", api_name="/generate_pairs")
    assert generated.startswith("❌") and no_pair_list(generated) and "Your pairs were not changed" in generated
    assert len(table["data"]) == len(project.pairs()) > 0  # the table still shows the pairs
    assert (project.root / "pairs.jsonl").read_bytes() == before


@pytest.fixture(scope="module")
def served_bundled(tmp_path_factory):
    """The bundled model served by ``dab serve`` (with an adapter that changes nothing: LoRA B is zero)."""
    from peft import LoraConfig, get_peft_model

    from builder.models import load_model, load_tokenizer

    tmp = tmp_path_factory.mktemp("bundled-served")
    adapter = tmp / "adapter"
    get_peft_model(load_model("bundled"), LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM")
                   ).save_pretrained(adapter)
    load_tokenizer("bundled").save_pretrained(adapter)
    process, url = start_dab_serve(tmp, "smol", "bundled", adapter)
    yield url
    process.terminate()
    process.wait(10)


def test_served_bundled_model_writes_pairs(served_bundled, project, capsys):
    cfg = project.load_config()
    cfg.pairs.max_new_tokens, cfg.pairs.max_pairs_per_chunk = 120, 1
    project.save_config(cfg)
    assert dab_pairs(project, served_bundled, "smol") == 0, capsys.readouterr().err
    report = load_report(project)
    assert report["generator"] == "openai" and report["totals"]["candidates"] >= 1
    assert "1 of 1 passages" in capsys.readouterr().err
