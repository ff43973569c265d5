"""The ``local`` generator: a teacher chat model run with transformers on this machine.

    pairs:
      generator: local
      teacher_model: bundled            # or any chat model id / folder
      batch_size: 16                    # chunks generated together (padding-left batches)
      chunk_time_limit_s: 60            # generation time limit per batch, so per chunk
      max_retries: 2                    # a chunk whose reply is unusable is retried (sampled)

Prompts come from ``templates/generation`` (a JSON reply of the shape described in ``teacher``). The
reply is started for the model with the template's ``response_prefix`` (``{"pairs":
[{"question": "``), which keeps small models on the JSON track; near-valid replies are
repaired (``teacher.parse_pairs_json``). Chunks are sorted by prompt length before batching so
padding stays small. A chunk that still fails after its retries gets an error in the report.
The model runs on the process's torch thread (``torch_thread``).
"""

import functools

from .. import torch_thread
from ..config import PairsConfig
from ..errors import GeneratorError
from ..models import load_model_and_tokenizer
from ..records import Chunk
from ..templates import load_template
from .base import ChunkResult, ProgressCallback, register
from .prompts import render_messages
from .teacher import parse_pairs_json


@functools.lru_cache(maxsize=1)
def load_teacher(spec: str):
    """Model (eval mode) and tokenizer (left padding), cached for the process."""
    model, tokenizer = load_model_and_tokenizer(spec)
    tokenizer.padding_side = "left"
    return model.eval(), tokenizer


@register("local")
def generate_local(chunks: list[Chunk], pairs_cfg: PairsConfig, progress: ProgressCallback = None) -> list[ChunkResult]:
    """Pairs for every chunk from the local teacher; one ChunkResult per chunk."""
    model, tokenizer = torch_thread.call(load_teacher, pairs_cfg.teacher_model)
    prefix = load_template(pairs_cfg.template).response_prefix
    prompts = [tokenizer.apply_chat_template(render_messages(c, pairs_cfg), tokenize=False, add_generation_prompt=True)
               + prefix for c in chunks]
    results: dict[int, ChunkResult] = {}
    pending = sorted(range(len(chunks)), key=lambda i: len(prompts[i]))
    for attempt in range(pairs_cfg.max_retries + 1):
        failed = []
        for start in range(0, len(pending), pairs_cfg.batch_size):
            batch = pending[start:start + pairs_cfg.batch_size]
            replies = torch_thread.call(generate_batch, model, tokenizer, [prompts[i] for i in batch], pairs_cfg,
                                        attempt)
            for i, reply in zip(batch, replies):
                try:
                    results[i] = ChunkResult(parse_pairs_json(prefix + reply)[0])
                except GeneratorError as exc:
                    results[i] = ChunkResult(error=f"{exc} (after {attempt + 1} attempts)")
                    failed.append(i)
            if progress:
                progress(len(results), len(chunks))
        pending = failed
        if not pending:
            break
    return [results[i] for i in range(len(chunks))]


def generate_batch(model, tokenizer, prompts: list[str], pairs_cfg: PairsConfig, attempt: int) -> list[str]:
    """Generate replies for a batch of prompts; greedy first, sampled on retries."""
    import torch

    inputs = tokenizer(prompts, add_special_tokens=False, padding=True, return_tensors="pt").to(model.device)
    sampling = {"do_sample": True, "temperature": 0.7, "top_p": 0.95} if attempt else {"do_sample": False}
    if attempt:
        torch.manual_seed(pairs_cfg.seed + attempt)
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=pairs_cfg.max_new_tokens,
                                max_time=pairs_cfg.chunk_time_limit_s, pad_token_id=tokenizer.pad_token_id, **sampling)
    new_tokens = output[:, inputs["input_ids"].shape[1]:]
    return tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
