"""Fast tests of the wizard's pieces that need no server: step gating, project names, rate limit.

    .venv/bin/python -m pytest tests/test_ui_units.py -q
"""

import subprocess
import sys
from types import SimpleNamespace

import gradio as gr
import pytest

from builder.project import Project
from builder.train.loop import set_status
from builder.workflow import list_projects, project_progress, run_is_active
from ui import projects
from ui.engines import to_messages
from ui.progress import current_step, progress_html, step_open
from ui.ratelimit import RateLimiter, visitor_key


def test_steps_open_in_order():
    done = {"documents": True, "pairs": False}
    assert step_open("pairs", done) and not step_open("train", done)
    assert not step_open("share", done) and current_step(done) == "pairs"
    html = progress_html(done, "<b>x</b>")
    assert "1 of 5 steps done" in html and "(locked)" in html and "&lt;b&gt;x" in html


def test_fresh_project_progress(project_dir):
    project = Project.create(project_dir)
    assert project_progress(project) == dict.fromkeys(["documents", "pairs", "train", "evaluate", "share"], False)


def test_project_names_stay_inside_the_folder(tmp_path):
    assert projects.project_root(tmp_path, "support docs") == tmp_path / "support docs"
    for bad in ("..", "../x", "/etc", "a/b", "", ".hidden", "x" * 65):
        with pytest.raises(gr.Error):
            projects.project_root(tmp_path, bad)


def test_last_project_is_remembered(tmp_path):
    for name in ("alpha", "beta"):
        Project.create(tmp_path / name)
    assert list_projects(tmp_path) == ["alpha", "beta"]
    assert projects.last_project(tmp_path) == "alpha"
    projects.remember(tmp_path, "beta")
    assert projects.last_project(tmp_path) == "beta"
    projects.remember(tmp_path, "gone")
    assert projects.last_project(tmp_path) == "alpha"


def test_a_run_whose_process_died_is_not_active(tmp_path):
    set_status(tmp_path, "running", step=1, total_steps=5)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "pid").write_text(str(dead.pid))
    assert not run_is_active(tmp_path)
    (tmp_path / "pid").write_text(str(subprocess.os.getpid()))
    assert run_is_active(tmp_path)
    set_status(tmp_path, "completed")
    assert not run_is_active(tmp_path)


def test_rate_limit_per_visitor_with_a_sliding_window():
    now = [0.0]
    limiter = RateLimiter(max_messages=2, window_s=60, clock=lambda: now[0])
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")  # another visitor is not affected
    assert limiter.retry_after_s("a") == pytest.approx(60)
    now[0] = 60.5
    assert limiter.allow("a")


def request(host, forwarded=None):
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    return SimpleNamespace(client=SimpleNamespace(host=host), headers=headers)


def test_forwarded_address_is_trusted_only_from_this_computer():
    assert visitor_key(request("127.0.0.1", "203.0.113.9, 10.0.0.1")) == "203.0.113.9"
    assert visitor_key(request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"
    assert visitor_key(request("198.51.100.7")) == "198.51.100.7"


def test_gradio_history_becomes_plain_messages():
    history = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},
               {"role": "assistant", "content": "Hello"}, {"role": "assistant", "content": ""}]
    assert to_messages(history) == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
