"""An OpenAI-compatible HTTP endpoint for the tuned model: ``POST /v1/chat/completions``.

    dab serve --project PROJECT [--adapter DIR] [--host 127.0.0.1] [--port 8000]   # the run's base model + adapter

    curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
         -d '{"messages": [{"role": "user", "content": "When does the depot open?"}], "stream": true}'

Any OpenAI client works with ``base_url="http://127.0.0.1:8000/v1"``. Streaming answers are
server-sent events (``data: {chunk}`` lines, then ``data: [DONE]``).

Answers are grounded in the project's documents (``builder.answers``) with the project's chat
settings: the last question is asked over the best ``passages_k`` passages. Two extra top-level
fields of the response (and of the last streamed chunk, the one with ``finish_reason``) say how:
``"sources"``, a list of ``{document, heading, snippet, chunk_id, score}``, and ``"grounding"``:
``grounded``, ``no_match`` (no passage matched: the model was asked to say the documents do not
cover it), ``no_documents`` (the project has none) or ``off``; with them ``"unsupported"``, the
answer's figures, dates, codes and names that no source states (``GroundedPrompt.unsupported``), and
``"figure_lines"``, its other figures with the line of the sources stating each, as
``{fact, document, line}`` (``GroundedPrompt.figure_lines``). A request switches retrieval off
with the extra body field ``"documents": false``, sets the number of passages with
``"passages_k"`` and re-ranking with ``"rerank"`` (``"on"``, ``"off"``, ``"auto"``: ``builder.rerank``)
(OpenAI clients: ``extra_body={...}``); plain clients ignore them.

``response_format`` is honoured: ``{"type": "json_object"}`` or ``{"type": "json_schema",
"json_schema": {"name": ..., "schema": {...}}}`` constrains decoding (``builder.pairs.constrained``,
llguidance) so that the answer is a JSON document of the schema (unless ``max_tokens`` cuts it
short: ``finish_reason`` is then ``length``); a malformed one gets a 400.

Limits (``ServeLimits``), so that one request cannot hold the server: a body over
``max_body_bytes`` (256 KiB) gets a 413 before it is read whole; ``temperature`` (0-2),
``top_p`` (0-1], ``max_tokens`` (a whole number from 1; above ``max_answer_tokens``, 2048, it
is capped to that) and ``passages_k`` must be finite JSON numbers in range (400 with the reason
otherwise); the prompt is cut to ``max_prompt_tokens``
(4096) by the chat engine's rule: the oldest turns go first, then the start of the last message
(a grounded question is quoted by its last 2,000 characters, so its passages stay).
``usage.prompt_tokens`` says how many tokens were used. A client that disconnects,
streaming or not, cancels its generation within ``DISCONNECT_POLL_S``, even while no text is
being sent, and only its own answer stops. Concurrent requests are answered together: they join
and leave one batched decode loop between tokens (``builder.batching``, on the process's torch
thread), each with its own settings, limits and stop tokens. Also ``GET /v1/models`` and ``GET /health``.

Security: it binds to 127.0.0.1 by default. With ``$DAB_SERVE_API_KEY`` set, every request must
carry ``Authorization: Bearer <key>``. There is no TLS and no rate limit: put a reverse proxy in
front of it before exposing it beyond this computer.
"""

import asyncio
import dataclasses
import json
import math
import os
import secrets
import time
import uuid

from .answers import GroundedPrompt, claim_beside_decline, engine_prompt
from .chat import ChatEngine, clean_messages
from .config import MAX_PASSAGES_K, ChatConfig, ProjectConfig
from .errors import BuilderError, ConfigError, GeneratorError
from .models import resolve_model
from .project import Project
from .runs import Run, load_engine

API_KEY_ENV = "DAB_SERVE_API_KEY"
DISCONNECT_POLL_S = 0.1
MAX_TEMPERATURE = 2.0  # as OpenAI's API


@dataclasses.dataclass(frozen=True)
class ServeLimits:
    """What one request may ask for: its body size, its prompt and its answer length."""

    max_body_bytes: int = 256 * 1024
    max_prompt_tokens: int = 4096
    max_answer_tokens: int = 2048


class BodyTooLarge(Exception):
    """A request body over ``ServeLimits.max_body_bytes`` (answered with a 413)."""


def serving_quantize(base_model: str) -> str:
    """Full precision ("none") when the weights fit in free GPU memory (or on CPU), else "4bit"."""
    import torch

    if not torch.cuda.is_available():
        return "none"
    from accelerate import init_empty_weights
    from transformers import AutoConfig, AutoModelForCausalLM

    with init_empty_weights():
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(resolve_model(base_model)))
    bf16_bytes = 2 * sum(p.numel() for p in model.parameters())
    free_bytes, _ = torch.cuda.mem_get_info()
    return "none" if bf16_bytes * 1.3 < free_bytes else "4bit"


def load_serving_engine(run: Run, project_cfg: ProjectConfig) -> ChatEngine:
    """The engine for serving the run: its adapter merged into full-precision weights when memory allows."""
    return load_engine(run, project_cfg, quantize=serving_quantize(run.base_model(project_cfg)), merge=True)


def number_field(body: dict, name: str, default, low: float, high: float, integer: bool = False):
    """``body[name]`` when it is a finite JSON number in [low, high] (an integer if asked), else
    ConfigError with the reason; ``default`` when absent or null."""
    value = body.get(name)
    if value is None:
        return default
    shown = json.dumps(value)[:40]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"'{name}' must be a number, not {shown}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"'{name}' must be a finite number, not {shown}")
    if integer and isinstance(value, float) and not value.is_integer():
        raise ConfigError(f"'{name}' must be a whole number, not {shown}")
    if not low <= value <= high:
        span = f"at least {low}" if high == math.inf else f"between {low} and {high}"
        raise ConfigError(f"'{name}' must be {span}, not {shown}")
    return int(value) if integer else float(value)


def bool_field(body: dict, name: str, default: bool) -> bool:
    """``body[name]`` when it is true or false; ``default`` when absent or null."""
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise ConfigError(f"'{name}' must be true or false, not {json.dumps(value)[:40]}")
    return default if value is None else value


def request_config(body: dict, defaults: ChatConfig, limits: ServeLimits = ServeLimits()) -> ChatConfig:
    """Sampling and grounding settings of one request (OpenAI field names), on top of the project's."""
    answer_name = "max_tokens" if body.get("max_tokens") is not None else "max_completion_tokens"
    return dataclasses.replace(
        defaults, temperature=number_field(body, "temperature", defaults.temperature, 0, MAX_TEMPERATURE),
        top_p=number_field(body, "top_p", defaults.top_p, 0, 1),
        max_new_tokens=min(number_field(body, answer_name, defaults.max_new_tokens, 1, math.inf, integer=True),
                           limits.max_answer_tokens),
        grounded=bool_field(body, "documents", defaults.grounded),
        passages_k=number_field(body, "passages_k", defaults.passages_k, 1, MAX_PASSAGES_K, integer=True),
        rerank=defaults.rerank if body.get("rerank") is None else body["rerank"])


def text_of(content):
    """A message content as text: a string, or the text parts of an OpenAI content list."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content
                       if isinstance(part, dict) and part.get("type") == "text")
    return content


def request_messages(body: dict, defaults: ChatConfig,
                     limits: ServeLimits = ServeLimits()) -> tuple[list[dict], ChatConfig]:
    """The conversation of a request; a system message in it replaces the project's prompt."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ConfigError("'messages' must be a list of {role, content} objects")
    messages = [{"role": m.get("role"), "content": text_of(m.get("content"))} for m in messages]
    clean_messages(messages)  # roles, text contents, a question last
    chat_cfg = request_config(body, defaults, limits)
    system = [m.get("content") for m in messages if m.get("role") == "system"]
    if system and isinstance(system[0], str):
        chat_cfg.system_prompt = system[0]
    return messages, chat_cfg


def grounding_fields(prompt: GroundedPrompt, answer: str) -> dict:
    """The extra top-level fields that say what ``answer`` was grounded in, what of it no source
    states, what it claims besides saying the documents do not cover the question (null when
    nothing), and the lines that state its other figures."""
    return {"sources": prompt.sources(), "grounding": prompt.status, "unsupported": prompt.unsupported(answer),
            "unsure_claim": claim_beside_decline(answer) or None, "figure_lines": prompt.figure_lines(answer)}


def completion(answer_id: str, model: str, text: str, finish: str, usage: dict, extra: dict) -> dict:
    return {"id": answer_id, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": usage, **extra}


def chunk(answer_id: str, model: str, delta: dict, finish: str | None = None, extra: dict | None = None) -> str:
    """One server-sent event carrying a ``chat.completion.chunk`` (``extra``: more top-level fields)."""
    body = {"id": answer_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **(extra or {})}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def finish_reason(generation, chat_cfg: ChatConfig) -> str:
    return "length" if generation.new_tokens >= chat_cfg.max_new_tokens else "stop"


def usage_of(generation) -> dict:
    return {"prompt_tokens": generation.prompt_tokens, "completion_tokens": generation.new_tokens,
            "total_tokens": generation.prompt_tokens + generation.new_tokens}


class WrongKey(Exception):
    """A request without the right ``Authorization: Bearer`` key (answered with a 401)."""


def error(status: int, message: str, kind: str = "invalid_request_error"):
    """An OpenAI-style error response."""
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


async def cancel_when_gone(request, generation) -> None:
    """Cancel ``generation`` as soon as the client has disconnected (polled; ends with the answer).
    Sending text would also notice a gone client, but an answer can run a long time without text
    to send (queued behind another, or a non-streaming request)."""
    while not generation.done.is_set():
        if await request.is_disconnected():
            generation.cancel()
            return
        await asyncio.sleep(DISCONNECT_POLL_S)


async def read_json_body(request, max_bytes: int) -> dict:
    """The request's JSON object; BodyTooLarge past ``max_bytes`` (stops reading there)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge()
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > max_bytes:
            raise BodyTooLarge()
    try:
        body = json.loads(bytes(data))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ConfigError("the request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ConfigError("the request body must be a JSON object")
    return body


def format_processors(engine: ChatEngine, response_format) -> list:
    """Logits processors for an OpenAI ``response_format``: none for text, else a JSON constraint."""
    from .pairs import constrained

    schema = constrained.response_format_schema(response_format)
    if schema is None:
        return []
    if not constrained.available():
        raise ConfigError("response_format needs constrained decoding: pip install llguidance")
    try:
        with engine.tokenizer_lock:
            constraint = constrained.JsonConstraint.for_tokenizer(engine.tokenizer, engine.model.config.vocab_size,
                                                                  schema)
    except GeneratorError as exc:  # e.g. a tokenizer llguidance cannot read: the client may ask without it
        raise ConfigError(f"response_format is not supported for this model: {exc}") from exc
    return [constraint.processor(1)]


def start_answer(engine: ChatEngine, project: Project | None, messages: list[dict], chat_cfg: ChatConfig,
                 limits: ServeLimits, response_format=None):
    """Retrieve the passages, then queue the answer: (GroundedPrompt, Generation)."""
    processors = format_processors(engine, response_format)
    prompt = engine_prompt(engine, project, messages, chat_cfg)
    return prompt, engine.start(prompt.messages, chat_cfg, max_prompt_tokens=limits.max_prompt_tokens,
                                processors=processors)


async def sse_events(request, generation, chat_cfg: ChatConfig, answer_id: str, model: str, prompt: GroundedPrompt):
    """Server-sent events for one answer, the last with ``grounding_fields``; a client gone (or the
    stream closed) cancels the answer."""
    from starlette.concurrency import run_in_threadpool

    pieces, text = iter(generation), ""
    watcher = asyncio.create_task(cancel_when_gone(request, generation))
    try:
        yield chunk(answer_id, model, {"role": "assistant", "content": ""})
        while (piece := await run_in_threadpool(next, pieces, None)) is not None:
            text += piece
            yield chunk(answer_id, model, {"content": piece})
        yield chunk(answer_id, model, {}, finish_reason(generation, chat_cfg), grounding_fields(prompt, text))
        yield "data: [DONE]\n\n"
    finally:
        generation.cancel()
        watcher.cancel()


def create_app(engine: ChatEngine, defaults: ChatConfig, model_name: str = "domain-assistant",
               api_key: str | None = None, project: Project | None = None, limits: ServeLimits = ServeLimits()):
    """The FastAPI application serving ``engine``, grounded in ``project``'s documents (None: none)."""
    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import StreamingResponse
    from starlette.concurrency import run_in_threadpool

    async def require_key(request: Request) -> None:
        # a dependency, not an HTTP middleware: those hide the client's disconnect from the handler
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if api_key and not secrets.compare_digest(given.encode(), api_key.encode()):
            raise WrongKey()

    app = FastAPI(title="Domain Assistant", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(require_key)])

    @app.exception_handler(WrongKey)
    async def wrong_key(request: Request, exc: WrongKey):
        return error(401, "missing or wrong API key (Authorization: Bearer ...)", "authentication_error")

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": model_name}

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "local"}]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        try:
            body = await read_json_body(request, limits.max_body_bytes)
            messages, chat_cfg = request_messages(body, defaults, limits)
            stream = bool_field(body, "stream", False)
            prompt, generation = await run_in_threadpool(start_answer, engine, project, messages, chat_cfg, limits,
                                                         body.get("response_format"))
        except BodyTooLarge:
            return error(413, f"the request body is larger than {limits.max_body_bytes} bytes")
        except BuilderError as exc:
            return error(400, str(exc))
        answer_id = f"chatcmpl-{uuid.uuid4().hex}"
        if stream:
            return StreamingResponse(sse_events(request, generation, chat_cfg, answer_id, model_name, prompt),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        watcher = asyncio.create_task(cancel_when_gone(request, generation))
        try:
            text = "".join(await run_in_threadpool(list, generation))
        except asyncio.CancelledError:
            generation.cancel()
            raise
        finally:
            watcher.cancel()
        return completion(answer_id, model_name, text.strip(), finish_reason(generation, chat_cfg),
                          usage_of(generation), grounding_fields(prompt, text))

    return app


def serve(engine: ChatEngine, defaults: ChatConfig, host: str = "127.0.0.1", port: int = 8000,
          model_name: str = "domain-assistant", project: Project | None = None,
          limits: ServeLimits = ServeLimits()) -> None:
    """Run the server until interrupted (the key, if any, comes from ``$DAB_SERVE_API_KEY``)."""
    import uvicorn

    app = create_app(engine, defaults, model_name, api_key=os.environ.get(API_KEY_ENV) or None,
                     project=project, limits=limits)
    uvicorn.run(app, host=host, port=port, log_level="warning")
