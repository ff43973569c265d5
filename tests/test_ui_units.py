"""Fast tests of the wizard's pieces that need no server: step gating, project names, rate limit.

    .venv/bin/python -m pytest tests/test_ui_units.py -q
"""

import os
from types import SimpleNamespace

import gradio as gr
import pytest

from builder.project import Project, list_projects
from builder.train.presets import Hardware, recommended_models
from ui import projects
from ui.engines import history_messages
from ui.progress import current_step, progress_html, project_progress, step_open
from ui.ratelimit import ProxyTrust, RateLimiter, visitor_key
from ui.steps.train import data_line


def test_steps_open_in_order():
    done = {"documents": True, "pairs": False}
    assert step_open("pairs", done) and not step_open("train", done)
    assert not step_open("share", done) and current_step(done) == "pairs"
    html = progress_html(done, "<b>x</b>")
    assert "1 of 5 steps done" in html and "(locked: opens after 2. Pairs)" in html and "&lt;b&gt;x" in html


def test_locked_steps_say_what_opens_them():
    html = progress_html({"documents": True, "pairs": True}, "x")
    assert "(locked: opens after 3. Train)" in html and html.count("opens after 3. Train") == 2


def test_the_plan_leaves_out_what_it_does_not_have():
    """A one-file corpus keeps no passage back: the plan does not say "0 questions about passages"."""
    def plan(unseen: int, abstain: int):
        mix = SimpleNamespace(counts=lambda: {"closed_book": 40, "open_book": 5, "abstain": abstain})
        splits = SimpleNamespace(train=[None] * 30, recall=[None] * 4, unseen=[None] * unseen)
        return SimpleNamespace(mix=mix, splits=splits, facts=12, steps=9)

    small = data_line(plan(unseen=0, abstain=0))
    assert small.startswith("**30 pairs about 12 facts** to learn from.")
    assert "4 other wordings of questions it learns" in small and "passages it never trains on" not in small
    assert "Training examples: 45 (40 questions on their own, 5 with passages found by search)" in small
    assert " 0 " not in small and "about 9 steps" in small
    full = data_line(plan(unseen=3, abstain=2))
    assert "3 questions about passages it never trains on" in full and "2 with passages that lack the answer" in full


def test_fresh_project_progress(project_dir):
    project = Project.create(project_dir)
    assert project_progress(project) == dict.fromkeys(["documents", "pairs", "train", "evaluate", "share", "stale"], False)


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


def test_recommended_models_fit_the_hardware():
    cpu = recommended_models(Hardware("cpu", 64 * 2**30, "CPU"))
    small_gpu, big_gpu = (recommended_models(Hardware("cuda", gib * 2**30, "GPU")) for gib in (12, 80))
    assert cpu and set(cpu) < set(small_gpu) < set(big_gpu)
    assert "Qwen/Qwen2.5-7B-Instruct" in big_gpu and "Qwen/Qwen2.5-7B-Instruct" not in small_gpu


def test_rate_limit_per_visitor_with_a_sliding_window():
    now = [0.0]
    limiter = RateLimiter(max_messages=2, window_s=60, clock=lambda: now[0])
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")  # another visitor is not affected
    assert limiter.retry_after_s("a") == pytest.approx(60)
    now[0] = 60.5
    assert limiter.allow("a")


def request(peer, forwarded=None, host="127.0.0.1:7861"):
    headers = {"host": host, **({"x-forwarded-for": forwarded} if forwarded else {})}
    return SimpleNamespace(client=SimpleNamespace(host=peer), headers=headers)


def test_forwarded_address_is_trusted_only_through_the_tunnel_or_a_configured_proxy():
    trust = ProxyTrust(proxies=["10.0.0.2"])
    trust.add_tunnel("https://0123abcd.gradio.live")
    tunnel = "0123abcd.gradio.live"
    for n in range(3):  # a direct client on this computer cannot pick a new key per message
        assert visitor_key(request("127.0.0.1", f"203.0.113.{n}"), trust) == "127.0.0.1"
    assert visitor_key(request("127.0.0.1", "203.0.113.9, 10.0.0.1", tunnel), trust) == "10.0.0.1", \
        "through the tunnel: the entry the tunnel appended, a spoofed first entry is ignored"
    assert visitor_key(request("127.0.0.1", "203.0.113.9", tunnel), trust) == "203.0.113.9"
    assert visitor_key(request("10.0.0.2", "198.51.100.4"), trust) == "198.51.100.4", "a configured proxy"
    assert visitor_key(request("198.51.100.7", "203.0.113.9", tunnel), trust) == "198.51.100.7", "not from loopback"
    assert visitor_key(request("198.51.100.7"), trust) == "198.51.100.7"
    assert visitor_key(request("127.0.0.1", "203.0.113.9", tunnel)) == "127.0.0.1", "no trust given: the socket"


def test_rate_limit_forgets_visitors_that_left_the_window():
    now = [0.0]
    limiter = RateLimiter(max_messages=2, window_s=60, clock=lambda: now[0])
    for n in range(5000):
        assert limiter.allow(f"198.51.{n // 256}.{n % 256}")
    assert limiter.visitors() == 5000
    now[0] = 30.0
    assert limiter.allow("198.51.0.0") and limiter.visitors() == 5000, "all still inside the window"
    now[0] = 61.0
    assert limiter.allow("203.0.113.1")
    assert limiter.visitors() == 2, "only the visitor seen at 30 s and the new one are remembered"
    assert limiter.allow("198.51.0.0") and not limiter.allow("198.51.0.0"), "pruning keeps the limit"


def test_gradio_history_becomes_plain_messages():
    history = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},
               {"role": "assistant", "content": "Hello"}, {"role": "assistant", "content": ""}]
    assert history_messages(history) == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]


def test_saving_an_edit_and_a_rejection_together_keeps_both(project_dir):
    import pandas as pd

    from builder.pairs import add_manual_pair, shown_values
    from builder.pairs.review import PairFilter
    from ui.steps.pairs import COLUMNS, on_save

    project = Project.create(project_dir)
    kept = add_manual_pair(project, "When does the depot open?", "At 07:00 on weekdays.")
    edited = add_manual_pair(project, "Who repairs bikes?", "Volunteer mechanics.")
    rows = [[kept.id, "accepted", "training", kept.question, kept.answer, None, ""],
            [edited.id, "rejected", "training", edited.question, "Volunteer mechanics, on Thursdays.", None, ""]]
    base = {pair.id: shown_values(pair) for pair in (kept, edited)}
    on_save(str(project.root), "all", 0.0, "all", pd.DataFrame(rows, columns=COLUMNS), base)
    pairs = {p.id: p for p in project.pairs()}
    assert pairs[kept.id].status == "accepted"
    assert pairs[edited.id].answer == "Volunteer mechanics, on Thursdays."
    assert pairs[edited.id].status == "rejected" and pairs[edited.id].edited_by_user
    assert PairFilter(min_grounding=0.5).matches(pairs[kept.id], {}) is False, "unscored pairs filter as 0"


def test_a_stopped_run_is_resumable_and_the_newest_run_wins(project_dir):
    from builder.runs import Run, newest_resumable_run, newest_run

    project = Project.create(project_dir)
    first, second = Run(project.new_run_dir()), Run(project.new_run_dir())  # same second: "<stamp>", "<stamp>-1"
    for run, state in ((first, "completed"), (second, "stopped")):
        (run.folder / "config.yaml").write_text("name: p\n")
        run.write_status(state)
        (run.folder / "COMPLETE").write_text(state + "\n")
    assert newest_run(project) == second
    assert second.resumable() and not first.resumable() and newest_resumable_run(project) == second


def test_a_failed_run_shows_no_time_left(project_dir):
    from builder.runs import Run
    from builder.storage import append_jsonl
    from ui.steps.train import describe

    run = Run(Project.create(project_dir).new_run_dir())
    append_jsonl(run.metrics_path, {"step": 3, "loss": 2.5, "tokens_per_s": 80.0, "eta_s": 5.0})
    run.write_status("running", step=3, total_steps=10, pid=os.getpid(), message="training", eta_s=5.0)
    assert "about 5 s left" in describe(run) or "about 4 s left" in describe(run)
    for state in ("failed", "stopped", "completed"):
        run.write_status(state, step=3, total_steps=10, message="training failed: OSError: disk")
        line = describe(run)
        assert "s left" not in line and "loss 2.500" in line, state


def test_share_never_signals_a_process_that_is_not_our_demo():
    import subprocess
    import sys

    from ui.steps.share import demo_alive

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not demo_alive({"pid": other.pid}), "a live, unrelated process is not the demo"
        assert not demo_alive({"pid": 2**22 + 12345}) and not demo_alive({})
    finally:
        other.kill()


def test_stop_buttons_can_be_pressed_only_while_something_runs(project_dir):
    from ui import serving
    from ui.steps import chat, share

    project = Project.create(project_dir)
    (project.root / "share.json").write_text('{"pid": 4194304}')  # left behind, no demo runs
    shown = share.refresh(str(project.root))
    assert shown[0] == "No demo is running." and shown[1].interactive is False
    assert share.on_stop(str(project.root))[1].interactive is False
    assert share.stop_button(True).interactive is True
    status, example, stop = serving.describe(project, None)
    assert status == serving.NOT_RUNNING and example.visible is False and stop.interactive is False
    running = {"url": "http://127.0.0.1:8000/v1", "key": ""}
    assert serving.describe(project, running)[2].interactive is True
    assert [c.interactive for c in chat.passages_setting(False)] == [False, False]  # k and re-ranking
    assert [c.interactive for c in chat.passages_setting(True)] == [True, True]


def test_a_question_shows_at_once_while_the_documents_are_looked_up(tmp_path):
    """The first update comes before any model or search work (it can take seconds)."""
    from ui.steps import chat

    earlier = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
    first = next(chat.on_send("How much is a day pass?", earlier, [], str(tmp_path / "nowhere"), True, 3, "on"))
    assert first[0] == "" and first[1][:2] == earlier
    assert first[1][2:] == first[2] == [{"role": "user", "content": "How much is a day pass?"},
                                        {"role": "assistant", "content": chat.LOOKING}]
    closed = next(chat.on_send("How much is a day pass?", [], [], str(tmp_path / "nowhere"), False))
    assert closed[1] == [{"role": "user", "content": "How much is a day pass?"}]
    assert "no GPU: Auto leaves it off" in chat.rerank_help("cpu") and "GPU: Auto re-ranks" in chat.rerank_help("cuda")


def test_a_figure_no_source_states_is_flagged_right_under_its_answer():
    from ui.steps import chat
    from ui.sources import CHECK_DETAIL, check_message, figures_message

    earlier = {"role": "assistant", "content": "£10.40."}  # an identical earlier answer is not the one flagged
    reply = {"role": "assistant", "content": "£10.40."}
    source = {"role": "assistant", "content": "passage", "metadata": {"title": "Source 1: rent.pdf"}}
    pane = [{"role": "user", "content": "Rent?"}, earlier, {"role": "user", "content": "And now?"}, reply, source]
    chat.flag_checks(pane, reply, [])
    assert len(pane) == 5
    other = figures_message([{"fact": "£3.85", "document": "rent.pdf", "line": "- cleaning: £3.85 a week;"}])
    chat.flag_checks(pane, reply, [check_message(["£10.40", "15 April 2026"]), other])
    assert pane[3] is reply and pane[6] is source and pane[1] is earlier
    assert pane[4] == {"role": "assistant", "content": CHECK_DETAIL,
                       "metadata": {"title": "⚠ Not in the sources: £10.40, 15 April 2026", "status": "done"}}
    assert pane[5]["metadata"]["title"] == "Where the figures are: £3.85 (rent.pdf)"
    assert pane[5]["content"].endswith('\n- £3.85: rent.pdf, "- cleaning: £3.85 a week;"')
    assert history_messages([reply, pane[4], pane[5], source]) == [{"role": "assistant", "content": "£10.40."}]


def test_sources_sit_in_one_collapsed_box_under_the_answer_and_its_checks():
    """One box "Sources (2): ..." holds a box per passage (nested by ``parent_id``); an answer
    that also declines gets its own check; none of these is sent to the model."""
    from builder.answers import GROUNDED, GroundedPrompt
    from builder.retrieve import Passage
    from ui.sources import UNSURE_TITLE, check_messages, source_messages

    passages = (Passage("c1", "rent.pdf", ("Charges",), "Lifts: £2.65 a week.\nCleaning: £3.85 a week.", 2.0),
                Passage("c2", "faq.md", (), "Rent is due on Mondays.", 1.0),
                Passage("c3", "rent.pdf", ("Rent",), "Rents rose by 3.4%.", 0.5))
    prompt = GroundedPrompt([], passages, GROUNDED, question="What is the lift charge?")
    box, *sources = source_messages(prompt)
    assert box["metadata"]["title"] == "Sources (3): rent.pdf, faq.md" and box["metadata"]["status"] == "done"
    assert [s["metadata"]["title"] for s in sources] == [
        "Source 1: rent.pdf › Charges", "Source 2: faq.md", "Source 3: rent.pdf › Rent"]
    assert all(s["metadata"]["parent_id"] == box["metadata"]["id"] for s in sources)
    assert sources[0]["metadata"]["log"].startswith("Lifts: £2.65") and sources[1]["content"] == "Rent is due on Mondays."
    assert source_messages(prompt)[0]["metadata"]["id"] != box["metadata"]["id"]  # each answer's box is its own
    titles = [m["metadata"]["title"] for m in check_messages(prompt, "£3.85 a week. The documents do not cover this.")]
    assert titles == [UNSURE_TITLE, "Where the figures are: £3.85 (rent.pdf)"]
    assert check_messages(prompt, "The documents do not cover this.") == []
    assert history_messages([{"role": "assistant", "content": "£3.85."}, box, *sources]) == [
        {"role": "assistant", "content": "£3.85."}]
