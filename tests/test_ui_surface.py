"""What the wizard and the share demo expose, tried over HTTP the way a hostile page or visitor
would, and the Pairs step's saves racing each other.

    .venv/bin/python -m pytest tests/test_ui_surface.py -q

One wizard runs on 127.0.0.1 over a project that has a few pairs and a trained run (the tiny
model with a ready-made adapter); the demo is the real ``ui.demo`` process started from the
Share step.
"""

import contextlib
import json
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from builder.pairs import add_manual_pair
from builder.project import Project

from .support import client, free_port, make_run

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-battery"
FOREIGN = {"Host": "attacker.example"}


@pytest.fixture(scope="module")
def wizard(tmp_path_factory, tiny_model_dir, tiny_adapter):
    """(url, project) of a running wizard; the project has pairs and a trained run."""
    from ui.app import launch

    project = Project.create(tmp_path_factory.mktemp("projects") / "bikes")
    cfg = project.load_config()
    cfg.train.base_model = str(tiny_model_dir)
    cfg.chat.max_new_tokens = 8
    project.save_config(cfg)
    for n in range(3):
        add_manual_pair(project, f"Where is dock number {n}?", f"Dock {n} is on Mill Lane.")
    make_run(project, tiny_adapter)
    app, url = launch(project=project.root, port=free_port(), block=False)
    yield url, project
    app.close()


@pytest.fixture(scope="module")
def demo(wizard):
    """The demo's share.json info, started from the Share step with 2 messages per minute."""
    url, project = wizard
    c = client(url)
    c.predict(PASSWORD, False, 2, api_name="/share_start")
    yield json.loads((project.root / "share.json").read_text())
    c.predict(api_name="/share_stop")


@contextlib.contextmanager
def logged_in(info):
    """An HTTP client logged in to the demo (its session cookie set)."""
    with httpx.Client(base_url=info["local_url"], timeout=30) as http:
        assert http.post("login", data={"username": "demo", "password": PASSWORD}).status_code == 200
        yield http


def test_wizard_refuses_a_foreign_host_header(wizard):
    url, project = wizard
    pairs_file = f"{url}gradio_api/file={project.root / 'pairs.jsonl'}"
    assert httpx.get(pairs_file).status_code == 200, "the projects folder is the wizard's own"
    for target in (pairs_file, url, f"{url}config", f"{url}gradio_api/info"):
        response = httpx.get(target, headers=FOREIGN)
        assert response.status_code == 400 and "not the address this app was started on" in response.text
        assert "Mill Lane" not in response.text
    assert httpx.get(url, headers={"Host": f"localhost:{httpx.URL(url).port}"}).status_code == 200


def test_demo_refuses_a_foreign_host_header(demo):
    assert httpx.get(demo["local_url"], headers=FOREIGN).status_code == 400
    refused = httpx.post(f"{demo['local_url']}login", data={"username": "demo", "password": PASSWORD}, headers=FOREIGN)
    assert refused.status_code == 400


def test_a_file_uploaded_to_the_wizard_is_never_served_by_the_demo(wizard, demo, tmp_path):
    url, _ = wizard
    secret = tmp_path / "salaries.txt"
    secret.write_text("Confidential: the treasurer earns 41,000 a year.\n")
    with secret.open("rb") as handle:
        [cached] = httpx.post(f"{url}gradio_api/upload", files={"files": handle}).json()
    assert "treasurer" in httpx.get(f"{url}gradio_api/file={cached}").text, "the wizard serves its own upload"
    with logged_in(demo) as http:
        for path in (f"gradio_api/file={cached}", f"gradio_api/file/{cached}", f"/gradio_api//file={cached}"):
            response = http.get(path)
            assert response.status_code in (403, 404) and "treasurer" not in response.text, path


def test_the_demo_takes_no_upload(demo, tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("hello")
    with logged_in(demo) as http, note.open("rb") as handle:
        response = http.post("gradio_api/upload", files={"files": handle})
    assert response.status_code == 403 and "note.txt" not in response.text and "/tmp" not in response.text


def test_a_forged_forwarded_for_does_not_escape_the_demo_rate_limit(demo):
    answers = []
    for n in range(3):  # a new X-Forwarded-For per message, from this computer (not through the tunnel)
        visitor = client(demo["local_url"], auth=("demo", PASSWORD), headers={"X-Forwarded-For": f"203.0.113.{n}"})
        try:
            answers.append(visitor.predict("Where can I park a cargo bike?", api_name="/chat"))
        except Exception as exc:  # noqa: BLE001  (the refusal surfaces as an exception)
            answers.append(str(exc))
    assert "Too many messages" not in answers[0] + answers[1]
    assert "Too many messages" in answers[2]


def table_rows(project: Project, edit_id: str, answer: str) -> dict:
    """The Pairs table as loaded, with one answer edited."""
    rows = [[p.id, p.status, "training", p.question, answer if p.id == edit_id else p.answer, 0, "written by you"]
            for p in project.pairs()]
    return {"headers": ["id", "status", "used for", "question", "answer", "grounding", "document"], "data": rows}


def test_adding_and_saving_at_once_loses_nothing(wizard):
    url, project = wizard
    page = client(url)
    target = project.pairs()[0].id
    for trial in range(6):
        page.predict(api_name="/load_page")  # the table and what it shows, as the browser has them
        table = table_rows(project, target, f"Dock 0 moved, version {trial}.")
        with ThreadPoolExecutor(2) as pool:
            saved = pool.submit(page.predict, "all", 0, "all", table, api_name="/save_pairs")
            added = pool.submit(page.predict, f"Is trial {trial} saved?", "Yes.", "", "all", 0, "all", api_name="/add_pair")
            saved.result(timeout=60), added.result(timeout=60)
        pairs = {p.id: p for p in project.pairs()}
        assert pairs[target].answer == f"Dock 0 moved, version {trial}.", f"trial {trial}: the edit was lost"
        assert any(p.question == f"Is trial {trial} saved?" for p in pairs.values()), f"trial {trial}: the added pair was lost"


def test_a_stale_tab_is_told_to_reload_instead_of_undoing_an_edit(wizard):
    url, project = wizard
    first_tab, second_tab = client(url), client(url)
    first_tab.predict(api_name="/load_page")
    second_tab.predict(api_name="/load_page")
    target = project.pairs()[1]
    stale = table_rows(project, target.id, "Dock 1 closed for repairs.")
    first_tab.predict("all", 0, "all", table_rows(project, target.id, "Dock 1 is behind the station."),
                      api_name="/save_pairs")
    *_, refused = second_tab.predict("all", 0, "all", stale, api_name="/save_pairs")
    assert refused.startswith("❌ Nothing was saved.") and re.search("changed elsewhere.*reload", refused)
    assert next(p for p in project.pairs() if p.id == target.id).answer == "Dock 1 is behind the station."
