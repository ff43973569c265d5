"""Streaming chat with a base model and its LoRA adapters, all on one copy of the weights.

    engine = ChatEngine.load("bundled:smollm2-135m-instruct", adapter_dir=run / "adapter")   # or runs.load_engine(run)
    for text in engine.stream([{"role": "user", "content": "Hi"}], use_adapter=True):
        print(text, end="")

- Base and tuned answers share the weights: the adapter is switched off for the base answer
  (``disable_adapter``); more adapters can be added (``add_adapter``) and picked by name.
  Float32 weights (the CPU default) hold the adapter in use folded in (``merge_adapter``), so a
  tuned answer costs no LoRA matmuls per token; switching to the base or another adapter unfolds
  it first (~0.06 s for the bundled model; the weights come back to within float32 rounding).
  Half-precision and 4-bit weights keep the adapter beside them: their rounding would drift.
- ``merge=True`` folds the adapter into full-precision weights, for serving (no LoRA overhead
  per token; base answers are then no longer available). 4-bit weights are never merged.
- The prompt is the model's chat template with the system prompt first (``runs.chat_settings``:
  the one the adapter was trained with, else the domain preset's), encoded as training and
  evaluation encode it (``conversation.encode_chat``): message contents are tokenized as plain
  text, so a control token typed in a message (``<|im_end|>``) stays text.
- The conversation is trimmed to the context window: oldest turns go first, then the start of
  an over-long last message.
- Loading and generation run on the process's one torch thread (``torch_thread``: from any
  other thread, CPU generation is ~1.5x slower). Concurrent answers share one decode loop there
  (``builder.batching``): they join and leave a batch between decode steps, each with its own
  sampling settings, limits and stop tokens, and two chats never mix outputs. Use
  ``engine.model`` directly only there (``torch_thread.call``), and encode with
  ``engine.tokenizer`` only holding ``tokenizer_lock``. ``Generation.cancel()`` ends one answer
  at its next token, or before it starts; ``stop()`` ends every answer being generated.
- ``start(..., processors=[...])`` adds logits processors to one answer (``serve`` passes a
  JSON constraint for ``response_format``).
"""

import contextlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Iterator

from . import torch_thread
from .batching import Answer, Batcher
from .config import ChatConfig
from .conversation import encode_chat, text_ids
from .errors import AdapterError, ConfigError
from .models import load_model, load_tokenizer

DEFAULT_ADAPTER = "default"
ROLES = {"system", "user", "assistant"}


class Generation:
    """One answer being generated on the torch thread; iterate it for text pieces."""

    def __init__(self, streamer):
        self.streamer = streamer
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.prompt_tokens = 0
        self.new_tokens = 0
        self.started_s = time.perf_counter()
        self.first_token_s: float | None = None

    def cancel(self) -> None:
        """End the answer after the current token (or before it starts)."""
        self.stop_event.set()

    def __iter__(self) -> Iterator[str]:
        for piece in self.streamer:
            if piece:
                yield piece
        self.done.wait()
        if self.error is not None:
            raise self.error

    def count_token(self) -> bool:
        """Called once per generated token; returns True when the answer must stop."""
        self.new_tokens += 1
        if self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self.started_s
        return self.stop_event.is_set()


class ChatEngine:
    """One loaded model (+ optional adapters) that streams answers."""

    def __init__(self, model, tokenizer, adapters: dict[str, Path] | None = None, merged: bool = False):
        self.model, self.tokenizer = model, tokenizer
        self.adapters = dict(adapters or {})
        self.merged = merged
        self.folded: str | None = None  # the adapter folded into float32 weights now (``fold``)
        self.tokenizer_lock = threading.Lock()
        self.batcher = Batcher(self)

    @classmethod
    def load(cls, base_model: str, adapter_dir: Path | None = None, quantize: str = "none",
             merge: bool = False) -> "ChatEngine":
        """Load the base model and, if given, attach (or with ``merge``, fold in) the adapter."""
        return torch_thread.call(cls._load, base_model, adapter_dir, quantize, merge)

    @classmethod
    def _load(cls, base_model: str, adapter_dir: Path | None, quantize: str, merge: bool) -> "ChatEngine":
        model = load_model(base_model, quantize=quantize)
        tokenizer = load_tokenizer(base_model)
        if adapter_dir is None:
            return cls(model.eval(), tokenizer)
        model = attach_adapter(model, Path(adapter_dir))
        if merge and not getattr(model, "is_loaded_in_4bit", False):
            return cls(model.merge_and_unload().eval(), tokenizer, merged=True)
        return cls(model.eval(), tokenizer, {DEFAULT_ADAPTER: Path(adapter_dir)})

    def add_adapter(self, name: str, adapter_dir: Path) -> None:
        """Load another adapter of the same base model, selectable with ``use_adapter=name``."""
        if self.merged or not self.adapters:
            raise AdapterError("adapters can only be added to an engine loaded with an (unmerged) adapter")
        if name in self.adapters:
            raise AdapterError(f"an adapter named '{name}' is already loaded")
        adapter_dir = Path(adapter_dir)
        check_adapter(self.model.get_base_model(), adapter_dir)
        torch_thread.call(self.fold, None)
        torch_thread.call(self.model.load_adapter, str(adapter_dir), adapter_name=name)
        self.adapters[name] = adapter_dir

    def context_tokens(self, chat_cfg: ChatConfig) -> int:
        """The context window in tokens: the config's limit, else the model's."""
        window = getattr(self.model.config, "max_position_embeddings", None) or 2048
        return min(chat_cfg.context_tokens, window) if chat_cfg.context_tokens else window

    def stop(self) -> None:
        """Ask every answer being generated now to end after its current token."""
        for answer in self.batcher.unfinished():
            answer.generation.cancel()

    def stream(self, messages: list[dict], chat_cfg: ChatConfig | None = None,
               use_adapter: bool | str = True) -> Iterator[str]:
        """Yield the answer in pieces; leaving the loop early stops the generation."""
        generation = self.start(messages, chat_cfg, use_adapter)
        try:
            yield from generation
        finally:
            generation.cancel()

    def start(self, messages: list[dict], chat_cfg: ChatConfig | None = None,
              use_adapter: bool | str = True, max_prompt_tokens: int = 0, processors: list | None = None) -> Generation:
        """Queue an answer for the torch thread's decode loop; returns its ``Generation`` at once.
        ``max_prompt_tokens`` (0 = the window's room) cuts the prompt shorter, by the same rule;
        ``processors``: logits processors for this answer only (called as ``(input_ids, scores)``)."""
        from transformers import TextIteratorStreamer
        from transformers.generation import LogitsProcessorList, TemperatureLogitsWarper, TopPLogitsWarper

        chat_cfg = chat_cfg or ChatConfig()
        self.check_choice(use_adapter)
        input_ids = self.prompt_ids(messages, chat_cfg, max_prompt_tokens)
        generation = Generation(TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True))
        generation.prompt_tokens = len(input_ids)
        sample = chat_cfg.temperature > 0
        warpers = [TemperatureLogitsWarper(chat_cfg.temperature), TopPLogitsWarper(chat_cfg.top_p)] if sample else []
        self.batcher.add(Answer(
            generation, input_ids, max(1, min(chat_cfg.max_new_tokens, self.context_tokens(chat_cfg) - len(input_ids))),
            stop_ids=self.stop_ids(), processors=LogitsProcessorList([*(processors or []), *warpers]),
            sample=sample, adapter=use_adapter))
        return generation

    def stop_ids(self) -> frozenset:
        """The model's end-of-sequence token ids (its generation config's), which end an answer."""
        eos = self.model.generation_config.eos_token_id
        return frozenset([eos] if isinstance(eos, int) else eos or [])

    def prompt_ids(self, messages: list[dict], chat_cfg: ChatConfig, max_prompt_tokens: int = 0) -> list[int]:
        """Token ids of the system prompt + conversation, trimmed to leave room for the answer
        (and to ``max_prompt_tokens`` when given).

        Holds ``tokenizer_lock``: the tokenizer's split-special-tokens switch is shared state,
        and two threads tokenizing at once read control tokens typed in a message as real ones
        (``tests/test_torch_thread.py``)."""
        turns = clean_messages(messages)
        system = [{"role": "system", "content": chat_cfg.system_prompt}] if chat_cfg.system_prompt else []
        budget = self.context_tokens(chat_cfg) - min(chat_cfg.max_new_tokens, self.context_tokens(chat_cfg) // 2)
        budget = min(budget, max_prompt_tokens) if max_prompt_tokens > 0 else budget
        with self.tokenizer_lock:
            return fit_to_window(self.tokenizer, system, turns, budget)

    def check_choice(self, enabled: bool | str) -> None:
        """Refuse an adapter choice this engine cannot serve (unknown name, base of a merged model)."""
        if self.merged and enabled is False:
            raise ConfigError("the adapter is merged into the weights: base answers need an unmerged engine")
        if isinstance(enabled, str) and not self.merged and enabled not in self.adapters:
            raise AdapterError(f"no adapter named '{enabled}' (loaded: {', '.join(self.adapters) or 'none'})")

    @contextlib.contextmanager
    def adapter_enabled(self, enabled: bool | str):
        """Context manager: the adapter on (``True`` or a name) or off (``False``, the base)."""
        self.check_choice(enabled)
        if self.merged or not self.adapters:
            yield
        elif enabled is False:
            self.fold(None)
            with self.model.disable_adapter():
                yield
        else:
            self.fold(enabled if isinstance(enabled, str) else DEFAULT_ADAPTER)
            yield

    def fold(self, name: str | None) -> None:
        """Make ``name`` the active adapter (None: none folded in), folding it into float32
        weights; on the torch thread. A no-op when it already is."""
        if self.folded == name:
            return
        if self.folded is not None:
            self.model.unmerge_adapter()
            self.folded = None
        if name is not None:
            self.model.set_adapter(name)
            if full_precision(self.model.get_base_model()):
                self.model.merge_adapter()
                self.folded = name


def full_precision(model) -> bool:
    """True when the weights are plain float32 (not half precision, not quantized)."""
    import torch

    return getattr(model, "hf_quantizer", None) is None and model.dtype == torch.float32


def clean_messages(messages: list[dict]) -> list[dict]:
    """Check roles and contents; drop system turns (the config gives the system prompt)."""
    if not messages:
        raise ConfigError("the conversation is empty")
    turns = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role not in ROLES or not isinstance(content, str):
            raise ConfigError(f"each message needs a role ({', '.join(sorted(ROLES))}) and text content")
        if role != "system":
            turns.append({"role": role, "content": content})
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
        raise ConfigError("the message is empty")
    return turns


def fit_to_window(tokenizer, system: list[dict], turns: list[dict], budget_tokens: int) -> list[int]:
    """Drop the oldest turns, then the start of the last message, until the prompt fits."""
    while len(turns) > 1 and len(encode_chat(tokenizer, system + turns)) > budget_tokens:
        turns = turns[2:] if len(turns) > 2 else turns[1:]
    ids = encode_chat(tokenizer, system + turns)
    excess = len(ids) - budget_tokens
    while excess > 0:
        content = turns[-1]["content"]
        content_ids = text_ids(tokenizer, content)
        keep = len(content_ids) - excess - 8
        if keep <= 0:
            raise ConfigError(f"the system prompt alone fills the {budget_tokens}-token context window")
        turns = turns[:-1] + [{"role": "user", "content": tokenizer.decode(content_ids[-keep:])}]
        ids = encode_chat(tokenizer, system + turns)
        excess = len(ids) - budget_tokens
    return ids


def read_adapter_config(adapter_dir: Path) -> dict:
    """The adapter's ``adapter_config.json``; AdapterError when missing or unreadable."""
    path = Path(adapter_dir) / "adapter_config.json"
    if not path.is_file():
        raise AdapterError(f"no adapter in {adapter_dir} (adapter_config.json missing)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdapterError(f"the adapter in {adapter_dir} is corrupt (adapter_config.json: {exc})") from exc
    if not isinstance(config, dict):
        raise AdapterError(f"the adapter in {adapter_dir} is corrupt (adapter_config.json is not a mapping)")
    return config


def adapter_shapes(adapter_dir: Path) -> dict[str, tuple]:
    """Tensor name -> shape of ``adapter_model.safetensors`` (header only, nothing loaded)."""
    from safetensors import SafetensorError, safe_open

    path = Path(adapter_dir) / "adapter_model.safetensors"
    if not path.is_file():
        raise AdapterError(f"the adapter in {adapter_dir} has no weights (adapter_model.safetensors missing)")
    try:
        with safe_open(str(path), framework="pt") as weights:
            return {name: tuple(weights.get_slice(name).get_shape()) for name in weights.keys()}
    except (SafetensorError, OSError) as exc:
        raise AdapterError(f"the adapter weights in {adapter_dir} are corrupt ({exc})") from exc


def check_adapter(model, adapter_dir: Path) -> None:
    """Refuse an adapter that is corrupt or was trained on a different base model."""
    config = read_adapter_config(adapter_dir)
    trained_on = str(config.get("base_model_name_or_path") or "")
    ours = str(getattr(model, "name_or_path", "") or model.config.name_or_path or "")
    if trained_on and ours and Path(trained_on).name.lower() != Path(ours).name.lower():
        raise AdapterError(f"the adapter in {adapter_dir} was trained on '{trained_on}', not on '{ours}'")
    modules = dict(model.named_modules())
    for name, shape in adapter_shapes(adapter_dir).items():
        match = re.match(r"base_model\.model\.(.+)\.lora_([AB])\.weight$", name)
        layer = modules.get(match[1]) if match else None
        if match and not hasattr(layer, "in_features"):
            raise AdapterError(f"the adapter in {adapter_dir} was trained on a different base model "
                               f"('{match[1]}' is not a layer of '{ours}')")
        if match and shape[1 if match[2] == "A" else 0] != (layer.in_features if match[2] == "A" else layer.out_features):
            raise AdapterError(f"the adapter in {adapter_dir} was trained on a different base model "
                               f"(layer sizes do not match '{ours}')")


def attach_adapter(model, adapter_dir: Path):
    """Wrap ``model`` with the LoRA adapter in ``adapter_dir``; clear errors when it is unusable."""
    from peft import PeftModel

    check_adapter(model, adapter_dir)
    try:
        return PeftModel.from_pretrained(model, str(adapter_dir), adapter_name=DEFAULT_ADAPTER)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise AdapterError(f"the adapter in {adapter_dir} cannot be loaded: {str(exc).splitlines()[0]}") from exc


def answer(engine: ChatEngine, question: str, chat_cfg: ChatConfig | None = None,
           use_adapter: bool | str = True) -> str:
    """The whole answer to one question (greedy by default), for evaluation and tests."""
    return "".join(engine.stream([{"role": "user", "content": question}], chat_cfg, use_adapter)).strip()
