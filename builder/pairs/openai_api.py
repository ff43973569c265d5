"""The ``openai`` generator: any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp, dab serve).

    pairs:
      generator: openai
      base_url: http://127.0.0.1:11434/v1      # Ollama; vLLM: http://host:8000/v1; llama.cpp: :8080/v1
      api_model: llama3.1:8b
      api_key_env: OPENAI_API_KEY              # the key is read from this variable, never stored

Before any passage is sent, the endpoint is checked (``endpoint.check_endpoint``): a wrong URL,
key or model name fails at once with one message, and the project's pairs are untouched.
Chunks are then sent concurrently (at most ``concurrency`` requests in flight) with httpx, greedy
first and sampled on retries. The reply is asked for as JSON of the pair-list schema
(``response_format`` ``json_schema``); a server that refuses that is asked for ``json_object``,
then for plain text, and the reply is parsed with repair either way (``teacher.read_reply``).
Each request has a ``timeout_s`` limit; timeouts, connection errors, HTTP 429 and 5xx answers,
and replies without usable pairs are retried up to ``max_retries`` times with exponential
backoff (tenacity; a ``Retry-After`` header is honoured up to 30 s). A refused key, an unknown
model or a web page instead of the API is final. A chunk that still fails gets an error in the
reconciliation report; when no chunk gives a pair the whole run fails with the reason.
"""

import asyncio

import httpx
from tenacity import AsyncRetrying, RetryError, retry_if_exception, stop_after_attempt, wait_exponential

from ..config import PairsConfig
from ..errors import GeneratorError
from ..records import Chunk
from .base import ChunkResult, ProgressCallback, register
from .endpoint import auth_headers, check_endpoint, response_problem, transport_problem
from .prompts import render_messages
from .teacher import pairs_schema, raise_if_all_failed, read_reply

MAX_RETRY_AFTER_S = 30.0
FORMATS = ("json_schema", "json_object", "text")


class RetryableError(Exception):
    """A failure worth another try: rate limit, server error, timeout, unusable reply."""

    def __init__(self, message: str, retry_after_s: float = 0.0):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ReplyFormat:
    """The ``response_format`` asked for, stepped down for the whole run when the server refuses it."""

    def __init__(self, max_pairs: int):
        self.index, self.schema = 0, pairs_schema(max_pairs, lengths=False)

    def field(self) -> dict:
        kind = FORMATS[self.index]
        if kind == "json_schema":
            return {"response_format": {"type": kind, "json_schema": {"name": "pairs", "schema": self.schema,
                                                                       "strict": True}}}
        return {"response_format": {"type": kind}} if kind == "json_object" else {}

    def step_down(self, refused: str) -> bool:
        """After a 400 about ``refused`` (the format asked for): whether a simpler format is left."""
        if FORMATS[self.index] == refused and self.index + 1 < len(FORMATS):
            self.index += 1
        return FORMATS[self.index] != refused


@register("openai")
def generate_openai(chunks: list[Chunk], pairs_cfg: PairsConfig, progress: ProgressCallback = None,
                    backoff_s: float = 1.0) -> list[ChunkResult]:
    """Pairs for every chunk from the configured endpoint; one ChunkResult per chunk."""
    if not pairs_cfg.api_model.strip():
        raise GeneratorError("choose the endpoint's model (pairs.api_model): Test connection lists the models it serves")
    model = check_endpoint(pairs_cfg).model
    return raise_if_all_failed(asyncio.run(generate_all(chunks, pairs_cfg, model, progress, backoff_s)))


async def generate_all(chunks: list[Chunk], pairs_cfg: PairsConfig, model: str, progress: ProgressCallback,
                       backoff_s: float) -> list[ChunkResult]:
    limit = asyncio.Semaphore(pairs_cfg.concurrency)
    done = pairs = 0
    reply_format = ReplyFormat(pairs_cfg.max_pairs_per_chunk)
    limits = httpx.Limits(max_connections=pairs_cfg.concurrency)
    async with httpx.AsyncClient(base_url=pairs_cfg.base_url.rstrip("/"), headers=auth_headers(pairs_cfg),
                                 limits=limits, timeout=httpx.Timeout(pairs_cfg.timeout_s)) as client:
        async def one(chunk: Chunk) -> ChunkResult:
            nonlocal done, pairs
            async with limit:
                result = await chunk_with_retries(client, chunk, pairs_cfg, model, reply_format, backoff_s)
            done, pairs = done + 1, pairs + len(result.candidates)
            if progress:
                progress(done, len(chunks), pairs)
            return result

        return list(await asyncio.gather(*(one(chunk) for chunk in chunks)))


async def chunk_with_retries(client: httpx.AsyncClient, chunk: Chunk, pairs_cfg: PairsConfig, model: str,
                             reply_format: ReplyFormat, backoff_s: float) -> ChunkResult:
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
                temperature = 0.0 if attempt.retry_state.attempt_number == 1 else 0.7
                return await request_pairs(client, chunk, pairs_cfg, model, reply_format, temperature)
    except RetryError as exc:
        last = exc.last_attempt.exception()
        return ChunkResult(error=f"gave up after {pairs_cfg.max_retries + 1} attempts: {last}")
    except GeneratorError as exc:
        return ChunkResult(error=str(exc))


async def request_pairs(client: httpx.AsyncClient, chunk: Chunk, pairs_cfg: PairsConfig, model: str,
                        reply_format: ReplyFormat, temperature: float) -> ChunkResult:
    """One request; raises RetryableError for transient failures, GeneratorError for final ones."""
    body = {"model": model, "messages": render_messages(chunk, pairs_cfg), "temperature": temperature,
            "max_tokens": pairs_cfg.max_new_tokens}
    response = await post_in_a_format(client, body, reply_format, pairs_cfg)
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableError(f"HTTP {response.status_code} from the endpoint", retry_after(response))
    problem = response_problem(response, pairs_cfg)
    if problem:
        raise GeneratorError(problem)
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise RetryableError(f"the answer is not an OpenAI chat completion: {response.text[:80]!r}") from exc
    try:
        return ChunkResult(read_reply(content or "", chunk))
    except GeneratorError as exc:
        raise RetryableError(str(exc)) from exc


async def post_in_a_format(client: httpx.AsyncClient, body: dict, reply_format: ReplyFormat,
                           pairs_cfg: PairsConfig) -> httpx.Response:
    """POST the request in the richest reply format the endpoint accepts: a 400 about the format
    asks again at once in a simpler one (a refused format is not a failed attempt)."""
    while True:
        asked = FORMATS[reply_format.index]
        try:
            response = await client.post("/chat/completions", json={**body, **reply_format.field()})
        except httpx.HTTPError as exc:
            raise RetryableError(transport_problem(exc, pairs_cfg.base_url, pairs_cfg.timeout_s)) from exc
        refused = response.status_code == 400 and asked != "text" and "format" in response.text.lower()
        if not (refused and reply_format.step_down(asked)):
            return response


def retry_after(response: httpx.Response) -> float:
    """Seconds from a numeric ``Retry-After`` header (0 when absent or a date)."""
    try:
        return max(0.0, float(response.headers.get("retry-after", "0")))
    except ValueError:
        return 0.0
