"""``dab serve`` answering concurrent requests in one batched decode loop, over real HTTP on
127.0.0.1: the same answers as one at a time, a client that leaves stops only its own answer, an
enormous ``max_tokens`` is capped and holds nobody up, and ``response_format`` constrains the
answer to JSON (bundled model).

    .venv/bin/python -m pytest tests/test_serve_batching.py -q
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from builder.chat import ChatEngine, answer
from builder.config import ChatConfig
from builder.serve import ServeLimits, create_app, request_config

from .support import QUESTION, ask, endless, recorded_starts, start_server

pytestmark = pytest.mark.e2e
DEFAULTS = ChatConfig(max_new_tokens=12)
QUESTIONS = ["where is the depot ?", "how much is a pass ?", "when does the depot open ?", "who rides bikes ?",
             "is the bike shop open on sunday ?", "what does a day pass cost ?", "where can I park ?", "hello"]


def batch_sizes(engine) -> list:
    """Rows of every decode step from now on (undo with ``del engine.batcher.decode``)."""
    sizes, original = [], engine.batcher.decode
    engine.batcher.decode = lambda: sizes.append(len(engine.batcher.batch.answers)) or original()
    return sizes


def post(url: str, body: dict) -> dict:
    reply = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_concurrent_requests_share_decode_steps_and_get_their_own_answers(base_url, tiny_engine):
    expected = [answer(tiny_engine, q, DEFAULTS) for q in QUESTIONS]
    sizes = batch_sizes(tiny_engine)
    try:
        with ThreadPoolExecutor(len(QUESTIONS)) as pool:
            replies = list(pool.map(lambda q: post(base_url, ask(q)), QUESTIONS))
    finally:
        del tiny_engine.batcher.decode
    assert [r["choices"][0]["message"]["content"] for r in replies] == expected
    assert max(sizes) >= 3, f"the requests never shared a decode step: {sizes}"
    assert all(0 < r["usage"]["completion_tokens"] <= 12 for r in replies)


def test_a_client_leaving_stops_only_its_own_answer(base_url, tiny_engine):
    started = recorded_starts(tiny_engine)
    sizes = batch_sizes(tiny_engine)
    try:
        with endless(tiny_engine):
            with httpx.stream("POST", f"{base_url}/v1/chat/completions",
                              json=ask(stream=True, max_tokens=1500), timeout=30) as leaving:
                lines = leaving.iter_lines()
                next(lines), next(lines), next(lines)  # the role chunk and some text: it is decoding
                with ThreadPoolExecutor(1) as pool:
                    staying = pool.submit(post, base_url, ask("how much is a pass ?", max_tokens=300))
                    while not sizes or sizes[-1] < 2:
                        time.sleep(0.01)  # both answers are in one batch; now the first client leaves
            assert started[0].done.wait(30) and started[0].stop_event.is_set()
            reply = staying.result(60)
    finally:
        del tiny_engine.start, tiny_engine.batcher.decode
    assert started[0].new_tokens < 1500
    assert reply["usage"]["completion_tokens"] == 300 and reply["choices"][0]["finish_reason"] == "length"
    assert not started[1].stop_event.is_set()


def test_an_enormous_max_tokens_is_capped_and_holds_nobody_up(base_url, tiny_engine):
    assert request_config({"max_tokens": 10**30}, DEFAULTS).max_new_tokens == ServeLimits().max_answer_tokens
    assert request_config({"max_completion_tokens": 3000}, DEFAULTS, ServeLimits(max_answer_tokens=50)
                          ).max_new_tokens == 50
    started = recorded_starts(tiny_engine)
    try:
        with endless(tiny_engine), httpx.stream("POST", f"{base_url}/v1/chat/completions",
                                                json=ask(stream=True, max_tokens=10**30), timeout=30) as huge:
            lines = huge.iter_lines()
            next(lines), next(lines)
            begun = time.monotonic()
            short = post(base_url, ask(max_tokens=5))
            assert time.monotonic() - begun < 10 and short["usage"]["completion_tokens"] == 5
            assert not started[0].done.is_set()  # the huge one is still going, beside it
    finally:
        del tiny_engine.start
    assert started[0].done.wait(30) and started[0].new_tokens < ServeLimits().max_answer_tokens


def test_different_adapter_choices_wait_for_each_other_and_do_not_mix(tiny_engine):
    questions = [(q, i % 2 == 0) for i, q in enumerate(QUESTIONS[:4])]
    expected = [answer(tiny_engine, q, DEFAULTS, use_adapter=a) for q, a in questions]
    results = [None] * len(questions)

    def chat(i):
        results[i] = answer(tiny_engine, questions[i][0], DEFAULTS, use_adapter=questions[i][1])

    threads = [threading.Thread(target=chat, args=(i,)) for i in range(len(questions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == expected


@pytest.fixture(scope="module")
def bundled_url():
    engine = ChatEngine.load("bundled")
    server, thread, url = start_server(create_app(engine, ChatConfig(max_new_tokens=60), model_name="smol"))
    yield url
    server.should_exit = True
    thread.join(10)


ANSWER_SCHEMA = {"type": "object", "properties": {"open": {"type": "boolean"}, "day": {"enum": ["monday", "sunday"]}},
                 "required": ["open", "day"], "additionalProperties": False}


@pytest.mark.slow
def test_response_format_json_schema_and_json_object(bundled_url):
    question = "Is the depot open on sunday? Answer in JSON."
    fmt = {"type": "json_schema", "json_schema": {"name": "opening", "schema": ANSWER_SCHEMA}}
    reply = post(bundled_url, ask(question, response_format=fmt))
    document = json.loads(reply["choices"][0]["message"]["content"])
    assert set(document) == {"open", "day"} and isinstance(document["open"], bool) and document["day"] in {"monday", "sunday"}
    assert reply["choices"][0]["finish_reason"] == "stop"
    free = post(bundled_url, ask("Describe the depot as a JSON object with a name.", max_tokens=60,
                                 response_format={"type": "json_object"}))
    text = free["choices"][0]["message"]["content"]
    if free["choices"][0]["finish_reason"] == "stop":
        assert isinstance(json.loads(text), dict)
    assert text.startswith("{")
    plain = post(bundled_url, ask(question, max_tokens=8, response_format={"type": "text"}))
    assert plain["choices"][0]["message"]["content"]


@pytest.mark.parametrize("fmt, reason", [
    ({"type": "yaml"}, "response_format type must be text, json_object or json_schema"),
    ({"type": "json_schema"}, "response_format json_schema needs"),
    ("json", "response_format type must be"),
])
def test_a_malformed_response_format_gets_a_400(base_url, fmt, reason):
    reply = httpx.post(f"{base_url}/v1/chat/completions", json=ask(QUESTION, response_format=fmt), timeout=30)
    assert reply.status_code == 400 and reason in reply.json()["error"]["message"]
