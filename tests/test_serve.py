"""``dab serve``'s OpenAI-compatible endpoint, over real HTTP on 127.0.0.1 (tiny model): answers,
streaming, disconnects, keys, request validation and limits, and answers grounded in documents.

    .venv/bin/python -m pytest tests/test_serve.py -q
"""

import functools
import json
import subprocess
import sys
import threading
import time
from dataclasses import replace

import httpx
import pytest

from builder.answers import claim_beside_decline, grounded_prompt, unsupported_facts
from builder.chat import answer
from builder.config import ChatConfig
from builder.project import Project
from builder.rerank import rank
from builder.serve import ServeLimits, create_app

from .support import QUESTION, ask, endless, free_port, handbook_project, recorded_starts, start_server

pytestmark = pytest.mark.e2e
DEFAULTS = ChatConfig(max_new_tokens=12)


def sse_events(response) -> list:
    return [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]


def test_non_streaming_completion(base_url, tiny_engine):
    reply = httpx.post(f"{base_url}/v1/chat/completions", json=ask(), timeout=30)
    assert reply.status_code == 200
    body = reply.json()
    assert body["object"] == "chat.completion" and body["model"] == "tiny"
    assert body["choices"][0]["message"]["content"] == answer(tiny_engine, QUESTION, DEFAULTS)
    assert body["choices"][0]["finish_reason"] in {"stop", "length"}
    assert body["usage"]["completion_tokens"] > 0 and body["usage"]["prompt_tokens"] > 5


def test_streaming_completion(base_url, tiny_engine):
    with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=ask(stream=True), timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert len(chunks) > 3 and text.strip() == answer(tiny_engine, QUESTION, DEFAULTS)
    assert chunks[-1]["choices"][0]["finish_reason"] in {"stop", "length"}


def test_request_settings_are_used(base_url, tiny_engine):
    one = httpx.post(f"{base_url}/v1/chat/completions", json=ask(max_tokens=3), timeout=30).json()
    assert one["usage"]["completion_tokens"] <= 3 and one["choices"][0]["finish_reason"] == "length"
    parts = {"messages": [{"role": "system", "content": "be brief"},
                          {"role": "user", "content": [{"type": "text", "text": QUESTION}]}]}
    reply = httpx.post(f"{base_url}/v1/chat/completions", json=parts, timeout=30).json()
    expected = answer(tiny_engine, QUESTION, ChatConfig(system_prompt="be brief", max_new_tokens=12))
    assert reply["choices"][0]["message"]["content"] == expected


QUESTION_JSON = '[{"role": "user", "content": "where is the depot ?"}]'


@pytest.mark.parametrize("fields, reason", [
    ('"max_tokens": 1e999', "'max_tokens' must be a finite number"),
    ('"max_tokens": -3', "'max_tokens' must be at least 1"),
    ('"max_tokens": 0', "'max_tokens' must be at least 1"),
    ('"max_completion_tokens": 2.5', "'max_completion_tokens' must be a whole number"),
    ('"max_tokens": true', "'max_tokens' must be a number"),
    ('"temperature": "inf"', "'temperature' must be a number, not \"inf\""),
    ('"temperature": NaN', "'temperature' must be a finite number, not NaN"),
    ('"temperature": -0.5', "'temperature' must be between 0 and 2"),
    ('"temperature": [1]', "'temperature' must be a number"),
    ('"temperature": "hot"', "'temperature' must be a number"),
    ('"top_p": Infinity', "'top_p' must be a finite number"),
    ('"top_p": 7', "'top_p' must be between 0 and 1"),
    ('"top_p": 0', "top_p must be in (0, 1]"),
    ('"passages_k": 0', "'passages_k' must be between 1 and 10"),
    ('"passages_k": "3"', "'passages_k' must be a number"),
    ('"documents": "no"', "'documents' must be true or false"),
    ('"rerank": "maybe"', "rerank must be one of auto, on, off"),
    ('"rerank": [1]', "rerank must be one of auto, on, off"),
    ('"rerank": false', "rerank must be one of auto, on, off"),
    ('"stream": "yes"', "'stream' must be true or false"),
])
def test_bad_numbers_and_types_get_a_400_with_the_reason(base_url, fields, reason):
    body = f'{{"messages": {QUESTION_JSON}, {fields}}}'
    reply = httpx.post(f"{base_url}/v1/chat/completions", content=body.encode(), timeout=30)
    assert reply.status_code == 400, reply.text
    assert reason in reply.json()["error"]["message"]


@pytest.mark.parametrize("body, reason", [
    (json.dumps(ask("")), "empty"), ('{"messages": "hi"}', "messages"), ("{oops", "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"), ("[1, 2]", "JSON object"), (b"\xff\xfe{", "not valid JSON"),
    ('{"messages": [{"role": "user", "content": null}]}', "text content"),
    ('{"messages": [{"role": "wizard", "content": "hi"}]}', "role"),
])
def test_bad_requests_get_a_clear_400(base_url, body, reason):
    reply = httpx.post(f"{base_url}/v1/chat/completions", content=body, timeout=30)
    assert reply.status_code == 400 and reason in reply.json()["error"]["message"]


def test_a_body_over_the_limit_gets_a_413_and_the_server_stays_free(base_url):
    huge = ask("depot " * 200_000)  # a 1.2 MB message
    started = time.monotonic()
    reply = httpx.post(f"{base_url}/v1/chat/completions", json=huge, timeout=30)
    assert reply.status_code == 413 and "larger than 262144 bytes" in reply.json()["error"]["message"]

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(40):
            yield b" " * 10_000

    reply = httpx.post(f"{base_url}/v1/chat/completions", content=chunks(), timeout=30)
    assert reply.status_code == 413 and time.monotonic() - started < 10
    assert httpx.post(f"{base_url}/v1/chat/completions", json=ask(), timeout=30).status_code == 200


def test_a_long_prompt_is_cut_to_the_prompt_limit(tiny_engine):
    server, thread, url = start_server(create_app(tiny_engine, DEFAULTS, limits=ServeLimits(max_prompt_tokens=64)))
    try:
        long = "the depot is on quay street . " * 5_000 + QUESTION  # 150 KB: under the body limit
        started = time.monotonic()
        reply = httpx.post(f"{url}/v1/chat/completions", json=ask(long), timeout=30).json()
        assert 32 < reply["usage"]["prompt_tokens"] <= 64 and time.monotonic() - started < 10
        history = {"messages": [{"role": "user", "content": "where is the depot ?"},
                                {"role": "assistant", "content": "on quay street . " * 20}, ask()["messages"][0]]}
        short = httpx.post(f"{url}/v1/chat/completions", json=history, timeout=30).json()
        alone = httpx.post(f"{url}/v1/chat/completions", json=ask(), timeout=30).json()
        assert short["usage"] == alone["usage"]  # the oldest turns went first, the question stayed whole
    finally:
        server.should_exit = True
        thread.join(10)


def test_client_disconnect_stops_generation(base_url, tiny_engine):
    started = recorded_starts(tiny_engine)
    try:
        with endless(tiny_engine), httpx.stream("POST", f"{base_url}/v1/chat/completions",
                                                json=ask(stream=True, max_tokens=1500), timeout=30) as response:
            for _, line in zip(range(4), response.iter_lines()):
                pass
    finally:
        del tiny_engine.start
    generation = started[0]
    assert generation.done.wait(30), f"generation kept running after the client left ({generation.new_tokens} tokens)"
    assert generation.new_tokens < 1500 and generation.stop_event.is_set()
    reply = httpx.post(f"{base_url}/v1/chat/completions", json=ask(), timeout=30)
    assert reply.status_code == 200  # the engine is free again


def test_client_leaving_a_queued_or_non_streaming_answer_stops_it(base_url, tiny_engine):
    from builder import torch_thread

    started = recorded_starts(tiny_engine)
    gate = threading.Event()
    try:
        with endless(tiny_engine):
            torch_thread.submit(gate.wait, 30)  # the torch thread is busy: the answer waits in line
            with httpx.stream("POST", f"{base_url}/v1/chat/completions",
                              json=ask(stream=True, max_tokens=1500), timeout=30) as response:
                next(response.iter_lines())  # the role chunk comes before any text; then leave
            time.sleep(0.5)
            gate.set()
            assert started[0].done.wait(30) and started[0].new_tokens == 0  # cancelled before it began
            with pytest.raises(httpx.ReadTimeout):
                httpx.post(f"{base_url}/v1/chat/completions", json=ask(max_tokens=1500), timeout=0.5)
            assert started[1].done.wait(30), "the non-streaming answer kept running after the client left"
    finally:
        gate.set()
        del tiny_engine.start
    assert started[1].stop_event.is_set() and started[1].new_tokens < 1500


def test_api_key_is_required_when_set(tiny_engine):
    server, thread, url = start_server(create_app(tiny_engine, DEFAULTS, api_key="s3cret"))
    try:
        assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 401
        wrong = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer nope"}, timeout=10)
        assert wrong.status_code == 401
        ok = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer s3cret"}, timeout=10)
        assert ok.status_code == 200 and ok.json()["data"][0]["id"] == "domain-assistant"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.slow
def test_dab_serve_answers_over_http(tiny_model_dir, tiny_adapter, tmp_path):
    project = Project.create(tmp_path / "project")
    cfg = project.load_config()
    cfg.train.base_model, cfg.chat.max_new_tokens = str(tiny_model_dir), 6
    project.save_config(cfg)
    port = free_port()
    cmd = [sys.executable, "-m", "dab", "serve", "--project", str(project.root),
           "--adapter", str(tiny_adapter), "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        reply = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=ask(), timeout=30).json()
        assert reply["model"] == "project" and 0 < reply["usage"]["completion_tokens"] <= 6
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def grounded_url(tiny_engine, tiny_model_dir, tmp_path_factory):
    """A server answering from the HANDBOOK documents, and that project."""
    project = handbook_project(tmp_path_factory.mktemp("served") / "handbook", tiny_model_dir)
    server, thread, url = start_server(create_app(tiny_engine, DEFAULTS, model_name="tiny", project=project))
    yield url, project
    server.should_exit = True
    thread.join(10)


DAY_PASS = "How much does a day pass cost?"


def test_grounded_answer_carries_its_sources(grounded_url, tiny_engine):
    url, project = grounded_url
    reply = httpx.post(f"{url}/v1/chat/completions", json=ask(DAY_PASS, passages_k=2), timeout=30).json()
    assert reply["grounding"] == "grounded" and 1 <= len(reply["sources"]) <= 2
    text = reply["choices"][0]["message"]["content"]
    asked = grounded_prompt(project, ask(DAY_PASS)["messages"], replace(DEFAULTS, passages_k=2))
    assert reply["unsupported"] == unsupported_facts(text, [DAY_PASS] + [p.text for p in asked.passages])
    assert reply["figure_lines"] == asked.figure_lines(text)
    assert reply["unsure_claim"] == (claim_beside_decline(text) or None)
    first = reply["sources"][0]
    assert first["document"] == "fees.md" and first["heading"].endswith("Day passes")
    assert first["snippet"].startswith("A day pass costs 4.50 euro") and first["chunk_id"] and first["score"] > 0
    prompt = grounded_prompt(project, ask(DAY_PASS)["messages"], replace(DEFAULTS, passages_k=2),
                             tiny_engine.tokenizer.all_special_tokens)
    assert reply["choices"][0]["message"]["content"] == "".join(tiny_engine.stream(prompt.messages, DEFAULTS)).strip()
    closed = httpx.post(f"{url}/v1/chat/completions", json=ask(DAY_PASS, documents=False), timeout=30).json()
    assert closed["grounding"] == "off" and closed["sources"] == []
    assert closed["choices"][0]["message"]["content"] == answer(tiny_engine, DAY_PASS, DEFAULTS)
    assert reply["usage"]["prompt_tokens"] > closed["usage"]["prompt_tokens"] + 20  # the passages were in the prompt
    reranked = httpx.post(f"{url}/v1/chat/completions", json=ask(DAY_PASS, passages_k=2, rerank="on"), timeout=30).json()
    prompt = grounded_prompt(project, ask(DAY_PASS)["messages"], replace(DEFAULTS, passages_k=2),
                             tiny_engine.tokenizer.all_special_tokens, functools.partial(rank, tiny_engine))
    assert [s["chunk_id"] for s in reranked["sources"]] == [p.chunk_id for p in prompt.passages]


def test_streamed_answer_carries_its_sources_in_the_last_chunk(grounded_url):
    url, _ = grounded_url
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=ask(DAY_PASS, stream=True), timeout=30) as response:
        chunks = [json.loads(e) for e in sse_events(response)[:-1]]
    assert [c["choices"][0]["finish_reason"] is not None for c in chunks].count(True) == 1
    assert chunks[-1]["grounding"] == "grounded" and chunks[-1]["sources"][0]["document"] == "fees.md"
    assert isinstance(chunks[-1]["unsupported"], list) and isinstance(chunks[-1]["figure_lines"], list)
    assert "unsure_claim" in chunks[-1]
    assert not any("sources" in c for c in chunks[:-1])


def test_question_matching_nothing_is_answered_without_passages(grounded_url):
    url, _ = grounded_url
    reply = httpx.post(f"{url}/v1/chat/completions", json=ask("Quantum zebras of Jupiter?"), timeout=30).json()
    assert reply["grounding"] == "no_match" and reply["sources"] == []


def test_server_without_documents_answers_closed_book(base_url, tiny_engine):
    reply = httpx.post(f"{base_url}/v1/chat/completions", json=ask(), timeout=30).json()
    assert reply["grounding"] == "no_documents" and reply["sources"] == []


def test_openai_client_reads_answers_and_sources(grounded_url):
    openai = pytest.importorskip("openai")
    url, _ = grounded_url
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": DAY_PASS}], max_tokens=6)
    assert reply.choices[0].message.content and reply.usage.completion_tokens <= 6
    assert reply.model_extra["grounding"] == "grounded" and reply.model_extra["sources"][0]["document"] == "fees.md"
    stream = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": DAY_PASS}],
                                            stream=True, extra_body={"documents": False})
    pieces = list(stream)
    assert "".join(p.choices[0].delta.content or "" for p in pieces).strip()
    assert pieces[-1].model_extra["grounding"] == "off"
    with pytest.raises(openai.BadRequestError, match="'temperature' must be between 0 and 2"):
        client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": DAY_PASS}], temperature=5)
