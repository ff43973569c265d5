"""Answers from the documents in the wizard's chat and in the share demo, driven through ``gradio_client``
on 127.0.0.1: sources under both answers, switched off, nothing matched, two chats at once, documents
removed after training, and the setting saved with the project.

    .venv/bin/python -m pytest tests/test_ui_grounded.py -q
"""

import pytest

from builder import retrieve
from builder.retrieve import NO_PASSAGES
from ui.sources import UNSURE_TITLE

from .support import client, free_port, handbook_project, make_run

pytestmark = pytest.mark.e2e
DAY_PASS = "How much does a day pass cost?"


@pytest.fixture(scope="module")
def wizard(tmp_path_factory, tiny_model_dir, tiny_adapter):
    """(url, project) of a running wizard on the HANDBOOK project with a trained run."""
    from ui.app import launch

    retrieve.forget_indexes()
    project = handbook_project(tmp_path_factory.mktemp("projects") / "handbook", tiny_model_dir)
    cfg = project.load_config()
    cfg.chat.max_new_tokens = 6
    project.save_config(cfg)
    make_run(project, tiny_adapter)
    app, url = launch(project=project.root, port=free_port(), block=False)
    yield url, project
    app.close()


def text_of(message: dict) -> str:
    from ui.engines import plain_text

    return plain_text(message["content"])


CHECKS = ("⚠ Not in the sources: ", "Where the figures are: ", UNSURE_TITLE)


def title(message: dict) -> str:
    return (message.get("metadata") or {}).get("title", "")


def titles(pane: list[dict]) -> list[str]:
    """The titles of the sources (or of the note saying why there are none), not of the checks nor
    of the box holding the sources."""
    return [title(m) for m in without_checks(pane) if title(m) and not is_box(m)]


def is_box(message: dict) -> bool:
    """Whether ``message`` is the box holding an answer's sources (they name it as their parent)."""
    return "id" in (message.get("metadata") or {})


def check_prefix(message: dict) -> str:
    return next((prefix for prefix in CHECKS if title(message).startswith(prefix)), "")


def without_checks(pane: list[dict]) -> list[dict]:
    """The pane without its check boxes, after checking that each sits right under an answer (or
    its other check) and names only what that answer says (the tiny model's answers are random words)."""
    kept = []
    for i, message in enumerate(pane):
        if prefix := check_prefix(message):
            above = next(j for j in range(i - 1, -1, -1) if not check_prefix(pane[j]))
            answer = text_of(pane[above])
            assert pane[above]["role"] == "assistant" and not title(pane[above])
            if prefix == UNSURE_TITLE:
                assert "cover" in answer, answer
                continue
            named = title(message)[len(prefix):].split(", ")
            facts = [item.rsplit(" (", 1)[0] for item in named] if prefix == CHECKS[1] else named  # "£3.85 (rent.pdf)"
            assert all(fact in answer for fact in facts), (answer, title(message))
        else:
            kept.append(message)
    return kept


def test_both_answers_come_with_the_same_sources(wizard):
    url, _ = wizard
    _, tuned, base = client(url).predict(DAY_PASS, [], [], True, 2, api_name="/chat")
    assert [m["role"] for m in tuned[:2]] == ["user", "assistant"] and text_of(tuned[1]).strip()
    box, *sources = without_checks(tuned)[2:]
    assert title(box).startswith("Sources (") and "fees.md" in title(box)
    assert all(source["metadata"]["parent_id"] == box["metadata"]["id"] for source in sources)
    assert 1 <= len(sources) <= 2 and titles(tuned) == titles(base) and without_checks(base)[3:] == sources
    assert titles(tuned)[0].startswith("Source 1: fees.md › Fees › Day passes")
    assert sources[0]["metadata"]["log"].startswith("A day pass costs 4.50 euro")  # the snippet beside the title
    assert "within one calendar day" in text_of(sources[0])  # the whole passage, once opened
    assert text_of(tuned[1]) != text_of(base[1])  # tuned and base answered, each in its pane


def test_switched_off_answers_have_no_sources_and_say_they_come_from_memory(wizard):
    url, _ = wizard
    _, tuned, base = client(url).predict(DAY_PASS, [], [], False, 3, api_name="/chat")
    assert titles(tuned) == titles(base) == ["From memory: the documents were not looked up."]
    assert text_of(tuned[1]).strip() and text_of(base[1]).strip()


def test_question_matching_nothing_says_so(wizard):
    url, _ = wizard
    _, tuned, _ = client(url).predict("Quantum zebras of Jupiter?", [], [], True, 3, api_name="/chat")
    assert titles(tuned) == [NO_PASSAGES] and "rather than guess" in text_of(tuned[2])


def test_a_follow_up_keeps_earlier_sources_shown_and_out_of_the_prompt(wizard):
    from ui.engines import history_messages

    url, _ = wizard
    session = client(url)
    _, tuned, base = session.predict(DAY_PASS, [], [], True, 2, api_name="/chat")
    _, tuned2, _ = session.predict("When does the depot open?", tuned, base, True, 1, api_name="/chat")
    assert tuned2[:len(tuned)] == tuned and len(without_checks(tuned2)) == len(without_checks(tuned)) + 4  # question, answer, box, source
    assert titles(tuned2)[-1].startswith("Source 1: depot.md")
    assert [m["role"] for m in history_messages(tuned2)] == ["user", "assistant", "user", "assistant"]


def test_reranked_passages_are_the_sources_of_both_answers(wizard):
    url, _ = wizard
    _, tuned, base = client(url).predict(DAY_PASS, [], [], True, 2, "on", api_name="/chat")
    assert len(titles(tuned)) == 2 and titles(tuned) == titles(base)
    assert all(title.startswith(("Source 1: ", "Source 2: ")) for title in titles(tuned))


def test_two_chats_at_once_get_their_own_sources(wizard):
    url, _ = wizard
    jobs = [client(url).submit(question, [], [], True, 1, api_name="/chat")
            for question in (DAY_PASS, "When does the depot open?")]
    panes = [job.result(timeout=120)[1] for job in jobs]
    assert [titles(pane)[0].split(": ", 1)[1].split(" ›")[0] for pane in panes] == ["fees.md", "depot.md"]


def test_the_switch_and_k_are_saved_with_the_project(wizard):
    url, project = wizard
    session = client(url)
    session.predict(False, 5, "on", api_name="/chat_grounding")
    chat = project.load_config().chat
    assert (chat.grounded, chat.passages_k, chat.rerank) == (False, 5, "on")
    page = client(url).predict(api_name="/load_page")  # a reloaded page shows the saved values
    assert any(list(page[i:i + 3]) == [False, 5, "on"] for i in range(len(page)))
    session.predict(True, 3, "auto", api_name="/chat_grounding")
    chat = project.load_config().chat
    assert (chat.grounded, chat.passages_k, chat.rerank) == (True, 3, "auto")


def test_demo_shows_sources_under_each_answer(wizard):
    from builder.runs import newest_trained_run
    from ui.demo import build_demo
    from ui.ratelimit import RateLimiter

    _, project = wizard
    demo = build_demo(project, newest_trained_run(project), RateLimiter(10, 60.0))
    _, url, _ = demo.queue().launch(server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        reply = client(url).predict(DAY_PASS, api_name="/chat")
        assert reply[0]["role"] == "assistant" and text_of(reply[0]).strip()
        assert titles(reply)[0].startswith("Source 1: fees.md") and "4.50 euro" in text_of(without_checks(reply)[2])
    finally:
        demo.close()


def test_documents_removed_after_training_are_never_sources(wizard):
    url, project = wizard
    names = {source.original_name: source.id for source in project.sources()}
    project.remove_source(names["fees.md"])
    _, tuned, _ = client(url).predict(DAY_PASS, [], [], True, 10, api_name="/chat")
    assert not any("fees.md" in title for title in titles(tuned))
    assert not any("4.50 euro" in text_of(m) for m in without_checks(tuned)[2:])
    for name in ("depot.md", "notes.md"):
        project.remove_source(names[name])
    _, tuned, base = client(url).predict(DAY_PASS, [], [], True, 3, api_name="/chat")
    assert titles(tuned) == titles(base) == ["No documents: answering without them."]
    assert text_of(tuned[1]).strip()  # answered closed-book
