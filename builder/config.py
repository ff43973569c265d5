"""Typed configuration, one dataclass per pipeline stage, validated on creation.

The same YAML (a project's ``project.yaml``) drives the UI, the CLI and the tests::

    project_cfg = ProjectConfig.load(path)        # missing keys take their defaults
    project_cfg.train.max_steps = 20              # plain attribute access
    project_cfg.save(path)                        # atomic write

Unknown keys are refused with a clear message rather than silently ignored.
"""

import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError
from .storage import atomic_write_text

BUNDLED_MODEL = "bundled:smollm2-135m-instruct"
RECOMMENDED_PRESET = "balanced"  # new projects and the sample train with it; the wizard labels it so
# An environment variable's name; well-known key prefixes are refused, so a pasted key is never saved.
_ENV_NAME = re.compile(r"(?!(?:sk|hf|gsk|xai)[-_][A-Za-z0-9]{8})[A-Za-z_][A-Za-z0-9_]{0,63}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@dataclass
class IngestConfig:
    """Limits that keep one bad or hostile upload from exhausting memory or disk."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_pages: int = 2000
    max_archive_entries: int = 1000
    max_expansion_ratio: float = 100.0
    max_text_chars: int = 10_000_000

    def __post_init__(self) -> None:
        _require(self.max_text_chars > 0, "max_text_chars must be positive")
        _require(self.max_file_bytes > 0, "max_file_bytes must be positive")
        _require(self.max_pages > 0, "max_pages must be positive")
        _require(self.max_archive_entries > 0, "max_archive_entries must be positive")
        _require(self.max_expansion_ratio >= 1, "max_expansion_ratio must be at least 1")


@dataclass
class ChunkConfig:
    """Chunk size and overlap, counted in tokens of the chosen model's tokenizer."""

    chunk_tokens: int = 384
    overlap_tokens: int = 48

    def __post_init__(self) -> None:
        _require(self.chunk_tokens >= 32, "chunk_tokens must be at least 32")
        _require(0 <= self.overlap_tokens < self.chunk_tokens,
                 "overlap_tokens must be between 0 and chunk_tokens")


@dataclass
class PairsConfig:
    """Which generator turns chunks into question/answer pairs, and its knobs."""

    generator: str = "rules"
    domain: str = "general"
    max_pairs_per_chunk: int = 8  # teachers: pairs asked for per passage
    max_questions_per_fact: int = 3  # phrasings kept per statement (generators that group by fact)
    eval_fraction: float = 0.05  # passages held out of training (the unseen-passages test)
    recall_fraction: float = 0.15  # facts with one phrasing held out (the recall test)
    seed: int = 0
    # validation of every pair
    min_grounding: float = 0.6
    duplicate_similarity: float = 92.0
    max_question_chars: int = 300
    max_answer_chars: int = 2000
    # teacher generators: ``local`` (transformers) and ``openai`` (any compatible endpoint)
    template: str = "qa"
    teacher_model: str = BUNDLED_MODEL
    base_url: str = "http://127.0.0.1:11434/v1"
    api_model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 4
    timeout_s: float = 60.0
    max_retries: int = 3
    batch_size: int = 16
    chunk_time_limit_s: float = 60.0
    max_new_tokens: int = 384
    constrained_json: bool = True  # local teacher: decode only valid pair lists

    def __post_init__(self) -> None:
        _require(self.base_url.startswith(("http://", "https://")),
                 f"pairs.base_url must start with http:// or https:// (got {self.base_url!r})")
        _require(self.api_key_env == "" or _ENV_NAME.fullmatch(self.api_key_env) is not None,
                 "pairs.api_key_env must be the NAME of an environment variable (like OPENAI_API_KEY), "
                 "not the key itself: the key is never stored in the project")
        _require(self.max_pairs_per_chunk > 0, "max_pairs_per_chunk must be positive")
        _require(0 <= self.min_grounding <= 1, "min_grounding must be in [0, 1]")
        _require(50 <= self.duplicate_similarity <= 100, "duplicate_similarity must be in [50, 100]")
        _require(self.max_question_chars >= 20 and self.max_answer_chars >= 20, "length bounds must be at least 20")
        _require(self.concurrency > 0 and self.batch_size > 0, "concurrency and batch_size must be positive")
        _require(self.timeout_s > 0 and self.chunk_time_limit_s > 0, "timeouts must be positive")
        _require(0 <= self.max_retries <= 10, "max_retries must be in [0, 10]")
        _require(self.max_new_tokens > 0, "max_new_tokens must be positive")
        _require(0 <= self.eval_fraction < 1, "eval_fraction must be in [0, 1)")
        _require(0 <= self.recall_fraction <= 1, "recall_fraction must be in [0, 1]")
        _require(self.max_questions_per_fact > 0, "max_questions_per_fact must be positive")


@dataclass
class TrainConfig:
    """LoRA fine-tuning hyperparameters. ``quantize``: auto (4-bit on CUDA), 4bit, or none.

    ``preset`` (quick/balanced/thorough) sets epochs, learning rate, rank, sequence and row length,
    micro-batch and accumulation from the hardware, model and data; ``custom`` (the default) uses
    the fields as written. ``eval_every_steps``/``checkpoint_every_steps`` 0 = chosen automatically;
    ``early_stopping_patience`` 0 = off.
    """

    base_model: str = BUNDLED_MODEL
    quantize: str = "auto"
    epochs: float = 3.0
    max_steps: int = 0
    learning_rate: float = 2e-4
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    max_seq_tokens: int = 1024
    micro_batch: int = 4
    grad_accum: int = 1
    row_tokens: int = 0  # tokens packed into one row (0: micro_batch x max_seq_tokens); a longer example gets a row alone
    warmup_fraction: float = 0.05
    seed: int = 0
    log_every_steps: int = 1
    preset: str = "custom"
    eval_every_steps: int = 0
    checkpoint_every_steps: int = 0
    early_stopping_patience: int = 0
    gradient_checkpointing: str = "auto"
    trust_remote_code: bool = False
    open_book_fraction: float = 0.25  # facts also taught over retrieved passages (builder/train/mix.py)
    abstain_fraction: float = 0.08  # facts asked over passages that lack the answer -> "not covered"
    recall_check: bool = True  # after each evaluation, ask held-out phrasings; keep the best checkpoint

    def __post_init__(self) -> None:
        _require(self.quantize in {"auto", "4bit", "none"}, "quantize must be auto, 4bit or none")
        _require(self.preset in {"quick", "balanced", "thorough", "custom"},
                 "preset must be quick, balanced, thorough or custom")
        _require(min(self.eval_every_steps, self.checkpoint_every_steps, self.early_stopping_patience) >= 0,
                 "eval_every_steps, checkpoint_every_steps and early_stopping_patience cannot be negative")
        _require(self.gradient_checkpointing in {"auto", "on", "off"}, "gradient_checkpointing must be auto, on or off")
        _require(self.epochs > 0 or self.max_steps > 0, "set epochs or max_steps above zero")
        _require(self.max_steps >= 0, "max_steps cannot be negative")
        _require(0 < self.learning_rate < 1, "learning_rate must be in (0, 1)")
        _require(0 <= self.open_book_fraction <= 1 and 0 <= self.abstain_fraction <= 1
                 and self.open_book_fraction + self.abstain_fraction <= 1,
                 "open_book_fraction and abstain_fraction must be in [0, 1] and add up to at most 1")
        _require(self.lora_rank > 0 and self.lora_alpha > 0, "lora_rank and lora_alpha must be positive")
        _require(self.max_seq_tokens >= 64, "max_seq_tokens must be at least 64")
        _require(self.micro_batch > 0 and self.grad_accum > 0, "micro_batch and grad_accum must be positive")
        _require(self.row_tokens >= 0, "row_tokens cannot be negative")
        _require(0 <= self.warmup_fraction < 1, "warmup_fraction must be in [0, 1)")

    @property
    def packed_row_tokens(self) -> int:
        """How many tokens one training row is packed up to."""
        return self.row_tokens or self.micro_batch * self.max_seq_tokens

    @property
    def longest_row_tokens(self) -> int:
        """The longest row training can see: a packed row, or one example alone (memory, padding)."""
        return max(self.packed_row_tokens, self.max_seq_tokens)


MAX_PASSAGES_K = 10  # passages quoted in one prompt, at most
RERANK_CHOICES = ("auto", "on", "off")


@dataclass
class ChatConfig:
    """Sampling settings for chat and evaluation answers.

    ``grounded`` ("Answer from the documents"): each question is asked over the ``passages_k``
    passages of the project's documents that best match it (``builder.answers``); ``rerank``:
    whether the model re-orders the passages search finds (``builder.rerank``)."""

    system_prompt: str = "You are a helpful assistant. Answer from the organisation's documentation."
    temperature: float = 0.0
    top_p: float = 0.95
    max_new_tokens: int = 256
    context_tokens: int = 0  # prompt + answer limit; 0 = the model's context window
    grounded: bool = True  # answer from the documents: retrieved passages go into the prompt
    passages_k: int = 3  # passages retrieved per question
    rerank: str = "auto"  # the model re-ranks searched passages: "on", "off", "auto" (on a GPU only)

    def __post_init__(self) -> None:
        _require(math.isfinite(self.temperature) and self.temperature >= 0,
                 f"temperature must be a finite number of 0 or more, not {self.temperature}")
        _require(math.isfinite(self.top_p) and 0 < self.top_p <= 1, f"top_p must be in (0, 1], not {self.top_p}")
        _require(1 <= self.passages_k <= MAX_PASSAGES_K, f"passages_k must be between 1 and {MAX_PASSAGES_K}")
        _require(self.max_new_tokens > 0, "max_new_tokens must be positive")
        _require(self.rerank in RERANK_CHOICES,
                 f"rerank must be one of {', '.join(RERANK_CHOICES)}, not {self.rerank!r}")
        _require(self.context_tokens == 0 or self.context_tokens >= 64, "context_tokens must be 0 (model window) or at least 64")


_SECTIONS = {"ingest": IngestConfig, "chunk": ChunkConfig, "pairs": PairsConfig,
             "train": TrainConfig, "chat": ChatConfig}


@dataclass
class ProjectConfig:
    """All stage configs of one project; saved as ``project.yaml`` in the project folder."""

    name: str = "project"
    description: str = ""  # one or two sentences for the share demo; empty: made from the documents' names
    ingest: IngestConfig = field(default_factory=IngestConfig)
    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    pairs: PairsConfig = field(default_factory=PairsConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    chat: ChatConfig = field(default_factory=ChatConfig)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ProjectConfig":
        """Build from nested dicts, refusing unknown sections and keys."""
        data = dict(data or {})
        kwargs: dict[str, Any] = {"name": str(data.pop("name", "project")),
                                  "description": str(data.pop("description", "") or "")}
        for section, section_cls in _SECTIONS.items():
            kwargs[section] = section_from_dict(section_cls, data.pop(section, None) or {}, section)
        _require(not data, f"unknown config section(s): {', '.join(sorted(data))}")
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, path: Path) -> "ProjectConfig":
        path = Path(path)
        if not path.exists():
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path.name} is not valid YAML: {exc}") from exc
        _require(isinstance(data, dict), f"{path.name} must hold a mapping of sections")
        return cls.from_dict(data)

    def save(self, path: Path) -> None:
        atomic_write_text(Path(path), yaml.safe_dump(self.to_dict(), sort_keys=False))


def section_from_dict(section_cls: type, values: dict[str, Any], label: str) -> Any:
    """Instantiate one section dataclass, with a clear error for unknown keys or bad types."""
    _require(isinstance(values, dict), f"config section '{label}' must be a mapping")
    known = {f.name: f for f in fields(section_cls)}
    unknown = sorted(set(values) - set(known))
    _require(not unknown, f"unknown key(s) in '{label}': {', '.join(unknown)}")
    defaults = section_cls()
    converted = {key: _coerce(value, getattr(defaults, key), f"{label}.{key}")
                 for key, value in values.items()}
    return section_cls(**converted)


def _coerce(value: Any, default: Any, label: str) -> Any:
    """Convert a YAML/CLI/UI value to the type of the field's default (bools strictly)."""
    if default is None or isinstance(value, type(default)) and not isinstance(default, bool):
        return value
    if isinstance(default, bool):
        _require(isinstance(value, bool), f"{label}: expected true or false, got {value!r}")
        return value
    try:
        return type(default)(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{label}: cannot use {value!r} ({exc})") from exc
