"""The ``openai`` generator: any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp).

    pairs:
      generator: openai
      base_url: http://127.0.0.1:11434/v1      # Ollama; vLLM: http://host:8000/v1
      api_model: llama3.1:8b
      api_key_env: OPENAI_API_KEY              # the key is read from this variable, never stored

Chunks are sent concurrently (at most ``concurrency`` requests in flight) with httpx. Each
request has a ``timeout_s`` limit; timeouts, connection errors, HTTP 429 and 5xx answers, and
replies that are not usable JSON are retried up to ``max_retries`` times with exponential
backoff (tenacity; a ``Retry-After`` header is honoured up to 30 s). A chunk that still fails
gets an error in the reconciliation report; the other chunks go on.
"""

import asyncio
import os

import httpx
from tenacity import AsyncRetrying, RetryError, retry_if_exception, stop_after_attempt, wait_exponential

from ..config import PairsConfig
from ..errors import GeneratorError
from ..records import Chunk
from .base import ChunkResult, ProgressCallback, register
from .prompts import render_messages
from .teacher import parse_pairs_json

MAX_RETRY_AFTER_S = 30.0


class RetryableError(Exception):
    """A failure worth another try: rate limit, server error, timeout, unusable reply."""

    def __init__(self, message: str, retry_after_s: float = 0.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


@register("openai")
def generate_openai(chunks: list[Chunk], pairs_cfg: PairsConfig, progress: ProgressCallback = None,
                    backoff_s: float = 1.0) -> list[ChunkResult]:
    """Pairs for every chunk from the configured endpoint; one ChunkResult per chunk."""
    if not pairs_cfg.api_model:
        raise GeneratorError("set pairs.api_model to the endpoint's model name")
    return asyncio.run(generate_all(chunks, pairs_cfg, progress, backoff_s))


async def generate_all(chunks: list[Chunk], pairs_cfg: PairsConfig, progress: ProgressCallback,
                       backoff_s: float) -> list[ChunkResult]:
    limit = asyncio.Semaphore(pairs_cfg.concurrency)
    done = 0
    key = os.environ.get(pairs_cfg.api_key_env, "")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    limits = httpx.Limits(max_connections=pairs_cfg.concurrency)
    async with httpx.AsyncClient(base_url=pairs_cfg.base_url.rstrip("/"), headers=headers, limits=limits,
                                 timeout=httpx.Timeout(pairs_cfg.timeout_s)) as client:
        async def one(chunk: Chunk) -> ChunkResult:
            nonlocal done
            async with limit:
                result = await chunk_with_retries(client, chunk, pairs_cfg, backoff_s)
            done += 1
            if progress:
                progress(done, len(chunks))
            return result

        return list(await asyncio.gather(*(one(chunk) for chunk in chunks)))


async def chunk_with_retries(client: httpx.AsyncClient, chunk: Chunk, pairs_cfg: PairsConfig,
                             backoff_s: float) -> ChunkResult:
    """Ask for one chunk's pairs, retrying what is worth retrying; never raises."""
    def wait(state) -> float:
        error = state.outcome.exception()
        backoff = wait_exponential(multiplier=backoff_s, max=30 * backoff_s)(state)
        return max(backoff, min(getattr(error, "retry_after_s", 0.0), MAX_RETRY_AFTER_S))

    retrying = AsyncRetrying(stop=stop_after_attempt(pairs_cfg.max_retries + 1), wait=wait,
                             retry=retry_if_exception(lambda e: isinstance(e, RetryableError)))
    try:
        async for attempt in retrying:
            with attempt:
                return await request_pairs(client, chunk, pairs_cfg)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        return ChunkResult(error=f"gave up after {pairs_cfg.max_retries + 1} attempts: {last}")
    except GeneratorError as exc:
        return ChunkResult(error=str(exc))


async def request_pairs(client: httpx.AsyncClient, chunk: Chunk, pairs_cfg: PairsConfig) -> ChunkResult:
    """One request; raises RetryableError for transient failures, GeneratorError for final ones."""
    body = {"model": pairs_cfg.api_model, "messages": render_messages(chunk, pairs_cfg), "temperature": 0.2,
            "max_tokens": pairs_cfg.max_new_tokens, "response_format": {"type": "json_object"}}
    try:
        response = await client.post("/chat/completions", json=body)
    except httpx.TimeoutException as exc:
        raise RetryableError(f"no answer within {pairs_cfg.timeout_s:g} s") from exc
    except httpx.TransportError as exc:
        raise RetryableError(f"cannot reach {pairs_cfg.base_url} ({type(exc).__name__})") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableError(f"HTTP {response.status_code} from the endpoint", retry_after(response))
    if response.status_code >= 400:
        raise GeneratorError(f"HTTP {response.status_code} from the endpoint: {response.text[:120]}")
    try:
        content = response.json()["choices"][0]["message"]["content"]
        candidates, _ = parse_pairs_json(content)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise RetryableError(f"malformed response ({type(exc).__name__})") from exc
    except GeneratorError as exc:
        raise RetryableError(str(exc)) from exc
    return ChunkResult(candidates)


def retry_after(response: httpx.Response) -> float:
    """Seconds from a numeric ``Retry-After`` header (0 when absent or a date)."""
    try:
        return max(0.0, float(response.headers.get("retry-after", "0")))
    except ValueError:
        return 0.0
