"""The ``local`` generator: a teacher chat model run with transformers on this machine.

    pairs:
      generator: local
      teacher_model: bundled            # or any chat model: a Hub id or a local folder
      constrained_json: true            # decode only valid pair lists (see ``constrained``)
      batch_size: 16                    # chunks generated together (padding-left batches)
      chunk_time_limit_s: 60            # generation time limit per batch, so per chunk
      max_retries: 2                    # a chunk whose reply is unusable is retried (sampled)

Prompts come from ``templates/generation``. With ``constrained_json`` every token is checked
against the pair-list schema (``teacher.pairs_schema``) as it is generated, so a reply that
ends parses; without it (or without the library) the reply is started for the model with the
template's ``response_prefix`` and near-valid JSON is repaired (``teacher.read_reply`` does both).
Chunks are sorted by prompt length before batching so padding stays small; greedy first,
sampled on retries. A chunk that still fails after its retries gets an error in the report.

Progress is reported per passage, also inside a batch: a row counts as done as soon as it
ends, with the pairs its reply holds (``progress(done, total, pairs_so_far)``). The model runs
on the process's torch thread (``torch_thread``).
"""

import functools
import logging

from .. import torch_thread
from ..config import PairsConfig
from ..errors import GeneratorError
from ..models import load_model_and_tokenizer
from ..records import Chunk
from ..templates import load_template
from . import constrained
from .base import ChunkResult, ProgressCallback, register
from .prompts import render_messages
from .teacher import pairs_schema, raise_if_all_failed, read_reply

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def load_teacher(spec: str):
    """Model (eval mode) and tokenizer (left padding), cached for the process."""
    model, tokenizer = load_model_and_tokenizer(spec)
    tokenizer.padding_side = "left"
    return model.eval(), tokenizer


def prepare_decoding(model, tokenizer, pairs_cfg: PairsConfig) -> tuple[str, "constrained.JsonConstraint | None"]:
    """(response prefix, constraint): the schema constraint when asked for and installed, else
    the template's prefix that starts the JSON for the model."""
    if pairs_cfg.constrained_json and not constrained.available():
        log.warning("llguidance is not installed: the local teacher's JSON is repaired, not constrained")
    elif pairs_cfg.constrained_json:
        vocab_size = model.get_output_embeddings().weight.shape[0]
        try:
            return "", constrained.JsonConstraint.for_tokenizer(tokenizer, vocab_size,
                                                                pairs_schema(pairs_cfg.max_pairs_per_chunk))
        except GeneratorError as exc:
            log.warning("%s: the local teacher's JSON is repaired, not constrained", exc)
    return load_template(pairs_cfg.template).response_prefix, None


class LocalJob:
    """The results of one generation job, settled row by row, and the progress they make."""

    def __init__(self, chunks: list[Chunk], prefix: str, attempts: int, progress: ProgressCallback):
        self.chunks, self.prefix, self.attempts, self.progress = chunks, prefix, attempts, progress
        self.results: dict[int, ChunkResult] = {}
        self.settled: set[tuple[int, int]] = set()
        self.done = self.pairs = 0

    def settle(self, index: int, reply: str, attempt: int) -> bool:
        """Record chunk ``index``'s reply at ``attempt`` (once); whether it gave pairs."""
        if (index, attempt) not in self.settled:
            self.settled.add((index, attempt))
            try:
                self.results[index] = ChunkResult(read_reply(self.prefix + reply, self.chunks[index]))
            except GeneratorError as exc:
                self.results[index] = ChunkResult(error=f"{exc} (after {attempt + 1} attempts)")
            if self.results[index].candidates or attempt + 1 == self.attempts:
                self.done += 1
                self.pairs += len(self.results[index].candidates)
                if self.progress:
                    self.progress(self.done, len(self.chunks), self.pairs)
        return bool(self.results[index].candidates)

    def row_settler(self, batch: list[int], attempt: int):
        """``on_row_end(row, reply)`` for a batch: row ``row`` of it is chunk ``batch[row]``."""
        return lambda row, reply: self.settle(batch[row], reply, attempt)

    def in_order(self) -> list[ChunkResult]:
        return [self.results[i] for i in range(len(self.chunks))]


@register("local")
def generate_local(chunks: list[Chunk], pairs_cfg: PairsConfig, progress: ProgressCallback = None) -> list[ChunkResult]:
    """Pairs for every chunk from the local teacher; one ChunkResult per chunk."""
    model, tokenizer = torch_thread.call(load_teacher, pairs_cfg.teacher_model)
    prefix, constraint = torch_thread.call(prepare_decoding, model, tokenizer, pairs_cfg)
    prompts = [tokenizer.apply_chat_template(render_messages(c, pairs_cfg), tokenize=False, add_generation_prompt=True)
               + prefix for c in chunks]
    job = LocalJob(chunks, prefix, pairs_cfg.max_retries + 1, progress)
    pending = sorted(range(len(chunks)), key=lambda i: len(prompts[i]))
    for attempt in range(job.attempts):
        failed = []
        for start in range(0, len(pending), pairs_cfg.batch_size):
            batch = pending[start:start + pairs_cfg.batch_size]
            replies = torch_thread.call(generate_batch, model, tokenizer, [prompts[i] for i in batch], pairs_cfg,
                                        attempt, constraint, job.row_settler(batch, attempt))
            failed += [i for i, reply in zip(batch, replies) if not job.settle(i, reply, attempt)]
        pending = failed
        if not pending:
            break
    return raise_if_all_failed(job.in_order())


class RowEnds:
    """A stopping criterion that never stops: it calls ``on_row_end(row, reply)`` once for each
    row of the batch that has just generated an end-of-sequence token (progress inside a batch)."""

    def __init__(self, tokenizer, prompt_tokens: int, eos_ids: set[int], on_row_end):
        self.tokenizer, self.prompt_tokens, self.eos_ids, self.on_row_end = tokenizer, prompt_tokens, eos_ids, on_row_end
        self.ended: set[int] = set()

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        for row, token in enumerate(input_ids[:, -1].tolist()):
            if token in self.eos_ids and row not in self.ended:
                self.ended.add(row)
                reply = self.tokenizer.decode(input_ids[row, self.prompt_tokens:], skip_special_tokens=True)
                self.on_row_end(row, reply)
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def eos_ids(model, tokenizer) -> set[int]:
    configured = model.generation_config.eos_token_id
    ids = set(configured if isinstance(configured, list) else [configured])
    return {i for i in ids | {tokenizer.eos_token_id} if i is not None}


def generate_batch(model, tokenizer, prompts: list[str], pairs_cfg: PairsConfig, attempt: int,
                   constraint: "constrained.JsonConstraint | None" = None, on_row_end=None) -> list[str]:
    """Generate replies for a batch of prompts; greedy first, sampled on retries."""
    import torch

    inputs = tokenizer(prompts, add_special_tokens=False, padding=True, return_tensors="pt").to(model.device)
    sampling = {"do_sample": True, "temperature": 0.7, "top_p": 0.95} if attempt else {"do_sample": False}
    if attempt:
        torch.manual_seed(pairs_cfg.seed + attempt)
    prompt_tokens = inputs["input_ids"].shape[1]
    hooks = {"logits_processor": [constraint.processor(len(prompts))]} if constraint else {}
    if on_row_end:
        hooks["stopping_criteria"] = [RowEnds(tokenizer, prompt_tokens, eos_ids(model, tokenizer), on_row_end)]
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=pairs_cfg.max_new_tokens, max_time=pairs_cfg.chunk_time_limit_s,
                                pad_token_id=tokenizer.pad_token_id, **sampling, **hooks)
    return tokenizer.batch_decode(output[:, prompt_tokens:], skip_special_tokens=True)
