"""``dab serve``'s OpenAI-compatible endpoint, over real HTTP on 127.0.0.1 (tiny model).

    .venv/bin/python -m pytest tests/test_serve.py -q
"""

import json
import subprocess
import sys
import threading
import time

import httpx
import pytest

from builder.chat import answer
from builder.config import ChatConfig
from builder.project import Project
from builder.serve import create_app

from .support import endless, free_port

pytestmark = pytest.mark.e2e
DEFAULTS = ChatConfig(max_new_tokens=12)
QUESTION = "where is the depot ?"


def start_server(app):
    """Run ``app`` with uvicorn on a free port of 127.0.0.1; returns (server, base_url)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def base_url(tiny_engine):
    server, thread, url = start_server(create_app(tiny_engine, DEFAULTS, model_name="tiny"))
    yield url
    server.should_exit = True
    thread.join(10)


def ask(text: str = QUESTION, **extra) -> dict:
    return {"model": "tiny", "messages": [{"role": "user", "content": text}], **extra}


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


@pytest.mark.parametrize("body, message", [
    (ask(""), "empty"), ({"messages": "hi"}, "messages"), (ask(temperature="hot"), "sampling"),
    (ask(top_p=7), "top_p")])
def test_bad_requests_get_a_clear_400(base_url, body, message):
    reply = httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=30)
    assert reply.status_code == 400 and message in reply.json()["error"]["message"]
    reply = httpx.post(f"{base_url}/v1/chat/completions", content=b"{oops", timeout=30)
    assert reply.status_code == 400 and "JSON" in reply.json()["error"]["message"]


def recorded_starts(engine) -> list:
    """Every Generation ``engine.start`` hands out from now on (undo with ``del engine.start``)."""
    started = []
    original = engine.start
    engine.start = lambda *args, **kwargs: started.append(original(*args, **kwargs)) or started[-1]
    return started


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
