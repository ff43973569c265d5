"""Constrained JSON decoding for transformers' ``generate``: every reply matches a JSON schema.

    constraint = JsonConstraint.for_tokenizer(tokenizer, vocab_size, schema)   # compiled once
    model.generate(**inputs, logits_processor=[constraint.processor(batch_size)], ...)
    schema = response_format_schema(body.get("response_format"))   # an OpenAI request's format (None: free text)

At each step the processor lets through only the tokens that keep each row's reply a valid
prefix of a document of the schema, and, once the document is complete, only end-of-sequence,
so a reply that ends before the token limit always parses. A reply cut off by
``max_new_tokens`` or a time limit is still unfinished JSON: callers keep JSON repair for that.
Rows of a padded batch are matched independently; a row that already ended is left alone.

The matcher is llguidance (a Rust library: it builds a tokenizer's token trie once, ~1 s for a
50k vocabulary, and computes a step's token mask in well under a millisecond). It was chosen over
lm-format-enforcer, outlines and xgrammar on speed and install size with the bundled model on a
2-core CPU (see ``bench/pairs.py``). ``schema=None`` accepts any JSON object (``json_object`` mode).
It is imported lazily; without it, ``available()`` is False and the caller falls back to
unconstrained decoding plus repair.
"""

import functools
import importlib.util
from dataclasses import dataclass

from ..errors import ConfigError, GeneratorError

ANY_OBJECT = {"type": "object"}
# Compact separators, no free whitespace: a small model cannot pad a reply with blank lines.
JSON_STYLE = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


def available() -> bool:
    """Whether the constrained-decoding library is installed."""
    return importlib.util.find_spec("llguidance") is not None


def response_format_schema(response_format) -> dict | None:
    """The schema an OpenAI ``response_format`` asks for: None for ``text`` (or none given), any
    object for ``json_object``, the given schema for ``json_schema``; ConfigError when malformed."""
    if response_format is None:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return ANY_OBJECT
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise ConfigError("response_format json_schema needs {'json_schema': {'name': ..., 'schema': {...}}}")
        return schema
    raise ConfigError("response_format type must be text, json_object or json_schema")


@functools.lru_cache(maxsize=4)
def llg_tokenizer(tokenizer, vocab_size: int):
    """llguidance's view of a Hugging Face fast tokenizer (cached: building it takes about a second)."""
    import llguidance.hf

    try:
        return llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size)
    except ValueError as exc:  # a slow (Python) tokenizer, or a decoder llguidance does not know
        raise GeneratorError(f"constrained decoding does not support this tokenizer ({exc})") from exc


@dataclass(frozen=True)
class JsonConstraint:
    """A schema compiled for one tokenizer; makes one logits processor per ``generate`` call."""

    ll_tokenizer: object
    grammar: str
    vocab_size: int

    @classmethod
    def for_tokenizer(cls, tokenizer, vocab_size: int, schema: dict | None = None) -> "JsonConstraint":
        import llguidance

        grammar = llguidance.LLMatcher.grammar_from_json_schema(schema or ANY_OBJECT, defaults=JSON_STYLE)
        problem = llguidance.LLMatcher.validate_grammar(grammar)
        if problem:
            raise GeneratorError(f"the JSON schema cannot be used for constrained decoding: {problem}")
        return cls(llg_tokenizer(tokenizer, vocab_size), grammar, vocab_size)

    def processor(self, batch_size: int) -> "JsonLogitsProcessor":
        return JsonLogitsProcessor(self, batch_size)


class JsonLogitsProcessor:
    """A transformers logits processor (``logits_processor=[...]``) for one batched ``generate``.

    Called once per step with the tokens so far: it first feeds each row's last sampled token to
    that row's matcher (from the second step on), then masks every token the matcher refuses."""

    def __init__(self, constraint: JsonConstraint, batch_size: int):
        import llguidance
        import torch

        self.matchers = [llguidance.LLMatcher(constraint.ll_tokenizer, constraint.grammar) for _ in range(batch_size)]
        self.bitmask = torch.full((batch_size, (constraint.vocab_size + 31) // 32), -1, dtype=torch.int32)
        self.bit_shifts = torch.arange(32, dtype=torch.int32)
        self.started = False

    def __call__(self, input_ids, scores):
        import llguidance.numpy
        import torch

        if self.started:
            for matcher, token in zip(self.matchers, input_ids[:, -1].tolist()):
                if not matcher.is_stopped():
                    matcher.consume_token(token)
        self.started = True
        bitmask = self.bitmask.numpy()  # the same memory, as the array llguidance writes into
        for row, matcher in enumerate(self.matchers):
            llguidance.numpy.fill_next_token_bitmask(matcher, bitmask, row)
        allowed = ((self.bitmask.unsqueeze(-1) >> self.bit_shifts) & 1).reshape(len(self.matchers), -1)
        allowed = allowed[:, :scores.shape[-1]].to(device=scores.device, dtype=torch.bool)
        return scores.masked_fill(~allowed, float("-inf"))
