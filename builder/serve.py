"""An OpenAI-compatible HTTP endpoint for the tuned model: ``POST /v1/chat/completions``.

    dab serve --project PROJECT [--adapter DIR] [--host 127.0.0.1] [--port 8000]   # the run's base model + adapter

    curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
         -d '{"messages": [{"role": "user", "content": "When does the depot open?"}], "stream": true}'

Any OpenAI client works with ``base_url="http://127.0.0.1:8000/v1"``. Streaming answers are
server-sent events (``data: {chunk}`` lines, then ``data: [DONE]``). A client that disconnects,
streaming or not, cancels its generation within ``DISCONNECT_POLL_S``, even while no text is
being sent. Requests are answered one at a time (the process's torch thread), in order; the
others wait. Also ``GET /v1/models`` and ``GET /health``.

Security: it binds to 127.0.0.1 by default. With ``$DAB_SERVE_API_KEY`` set, every request must
carry ``Authorization: Bearer <key>``. There is no TLS and no rate limit: put a reverse proxy in
front of it before exposing it beyond this computer.
"""

import asyncio
import json
import os
import secrets
import time
import uuid

from .chat import ChatEngine
from .config import ChatConfig, ProjectConfig
from .errors import BuilderError, ConfigError
from .models import resolve_model
from .runs import Run, load_engine

API_KEY_ENV = "DAB_SERVE_API_KEY"
DISCONNECT_POLL_S = 0.1


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


def request_config(body: dict, defaults: ChatConfig) -> ChatConfig:
    """Sampling settings of one request (OpenAI field names), on top of the project's."""
    try:
        return ChatConfig(system_prompt=defaults.system_prompt, context_tokens=defaults.context_tokens,
                          temperature=float(body.get("temperature", defaults.temperature)),
                          top_p=float(body.get("top_p", defaults.top_p)),
                          max_new_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens")
                                             or defaults.max_new_tokens))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad sampling setting: {exc}") from exc


def text_of(content):
    """A message content as text: a string, or the text parts of an OpenAI content list."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content
                       if isinstance(part, dict) and part.get("type") == "text")
    return content


def request_messages(body: dict, defaults: ChatConfig) -> tuple[list[dict], ChatConfig]:
    """The conversation of a request; a system message in it replaces the project's prompt."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ConfigError("'messages' must be a list of {role, content} objects")
    messages = [{"role": m.get("role"), "content": text_of(m.get("content"))} for m in messages]
    chat_cfg = request_config(body, defaults)
    system = [m.get("content") for m in messages if m.get("role") == "system"]
    if system and isinstance(system[0], str):
        chat_cfg.system_prompt = system[0]
    return messages, chat_cfg


def completion(answer_id: str, model: str, text: str, finish: str, usage: dict) -> dict:
    return {"id": answer_id, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": usage}


def chunk(answer_id: str, model: str, delta: dict, finish: str | None = None) -> str:
    """One server-sent event carrying a ``chat.completion.chunk``."""
    body = {"id": answer_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
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


async def sse_events(request, generation, chat_cfg: ChatConfig, answer_id: str, model: str):
    """Server-sent events for one answer; a client gone (or the stream closed) cancels the answer."""
    from starlette.concurrency import run_in_threadpool

    pieces = iter(generation)
    watcher = asyncio.create_task(cancel_when_gone(request, generation))
    try:
        yield chunk(answer_id, model, {"role": "assistant", "content": ""})
        while (piece := await run_in_threadpool(next, pieces, None)) is not None:
            yield chunk(answer_id, model, {"content": piece})
        yield chunk(answer_id, model, {}, finish_reason(generation, chat_cfg))
        yield "data: [DONE]\n\n"
    finally:
        generation.cancel()
        watcher.cancel()


def create_app(engine: ChatEngine, defaults: ChatConfig, model_name: str = "domain-assistant",
               api_key: str | None = None):
    """The FastAPI application serving ``engine``."""
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
            body = await request.json()
            if not isinstance(body, dict):
                raise ConfigError("the request body must be a JSON object")
            messages, chat_cfg = request_messages(body, defaults)
            generation = await run_in_threadpool(engine.start, messages, chat_cfg)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return error(400, "the request body is not valid JSON")
        except BuilderError as exc:
            return error(400, str(exc))
        answer_id = f"chatcmpl-{uuid.uuid4().hex}"
        if body.get("stream"):
            return StreamingResponse(sse_events(request, generation, chat_cfg, answer_id, model_name),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        watcher = asyncio.create_task(cancel_when_gone(request, generation))
        try:
            text = "".join(await run_in_threadpool(list, generation))
        except asyncio.CancelledError:
            generation.cancel()
            raise
        finally:
            watcher.cancel()
        return completion(answer_id, model_name, text.strip(), finish_reason(generation, chat_cfg), usage_of(generation))

    return app


def serve(engine: ChatEngine, defaults: ChatConfig, host: str = "127.0.0.1", port: int = 8000,
          model_name: str = "domain-assistant") -> None:
    """Run the server until interrupted (the key, if any, comes from ``$DAB_SERVE_API_KEY``)."""
    import uvicorn

    app = create_app(engine, defaults, model_name, api_key=os.environ.get(API_KEY_ENV) or None)
    uvicorn.run(app, host=host, port=port, log_level="warning")
