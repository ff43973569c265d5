"""Streaming chat with a base model and, optionally, its LoRA adapter on the same weights.

    engine = ChatEngine.load("bundled:smollm2-135m-instruct", adapter_dir=run / "adapter")
    for text in engine.stream([{"role": "user", "content": "Hi"}], use_adapter=True):
        print(text, end="")

Base and tuned answers come from one copy of the weights: the adapter is switched off for the
base answer (``disable_adapter``). A lock serialises generation so two chats never mix
outputs; ``stop()`` ends the current answer at the next token.
"""

import threading
from pathlib import Path
from typing import Iterator

from .config import ChatConfig
from .errors import AdapterError, ConfigError
from .models import load_model, load_tokenizer


class ChatEngine:
    """One loaded model (+ optional adapter) that streams answers."""

    def __init__(self, model, tokenizer, has_adapter: bool):
        self.model, self.tokenizer, self.has_adapter = model, tokenizer, has_adapter
        self._lock = threading.Lock()
        self._stop = threading.Event()

    @classmethod
    def load(cls, base_model: str, adapter_dir: Path | None = None, quantize: str = "none") -> "ChatEngine":
        """Load the base model and, if given, attach the adapter found in ``adapter_dir``."""
        model = load_model(base_model, quantize=quantize)
        tokenizer = load_tokenizer(base_model)
        if adapter_dir is None:
            return cls(model.eval(), tokenizer, has_adapter=False)
        return cls(attach_adapter(model, Path(adapter_dir)).eval(), tokenizer, has_adapter=True)

    def stop(self) -> None:
        """Ask the answer being generated to end after its current token."""
        self._stop.set()

    def stream(self, messages: list[dict], cfg: ChatConfig | None = None, use_adapter: bool = True) -> Iterator[str]:
        """Yield the answer in pieces as they are generated."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        cfg = cfg or ChatConfig()
        if not messages or not str(messages[-1].get("content", "")).strip():
            raise ConfigError("the message is empty")
        inputs = self.encode(messages, cfg)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop_event = self._stop

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return stop_event.is_set()

        kwargs = dict(**inputs, streamer=streamer, max_new_tokens=cfg.max_new_tokens,
                      do_sample=cfg.temperature > 0, stopping_criteria=StoppingCriteriaList([_Stop()]),
                      pad_token_id=self.tokenizer.pad_token_id)
        if cfg.temperature > 0:
            kwargs.update(temperature=cfg.temperature, top_p=cfg.top_p)
        with self._lock:
            self._stop.clear()

            def generate():
                with torch.inference_mode(), self.adapter_enabled(use_adapter):
                    self.model.generate(**kwargs)

            worker = threading.Thread(target=generate, daemon=True)
            worker.start()
            yield from streamer
            worker.join()

    def encode(self, messages: list[dict], cfg: ChatConfig) -> dict:
        """Apply the chat template (with the system prompt) and return model inputs."""
        full = [{"role": "system", "content": cfg.system_prompt}] if cfg.system_prompt else []
        full += [m for m in messages if m.get("role") != "system"]
        encoded = self.tokenizer.apply_chat_template(full, add_generation_prompt=True,
                                                     return_tensors="pt", return_dict=True)
        return {k: v.to(self.model.device) for k, v in encoded.items()}

    def adapter_enabled(self, enabled: bool):
        """Context manager: the adapter on (tuned) or off (base) for one answer."""
        import contextlib

        if self.has_adapter and not enabled:
            return self.model.disable_adapter()
        return contextlib.nullcontext()


def attach_adapter(model, adapter_dir: Path):
    """Wrap ``model`` with the LoRA adapter in ``adapter_dir``; clear errors when it is unusable."""
    from peft import PeftModel

    if not (adapter_dir / "adapter_config.json").is_file():
        raise AdapterError(f"no adapter in {adapter_dir} (adapter_config.json missing)")
    try:
        return PeftModel.from_pretrained(model, str(adapter_dir))
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise AdapterError(f"the adapter in {adapter_dir} cannot be loaded: {str(exc).splitlines()[0]}") from exc


def answer(engine: ChatEngine, question: str, cfg: ChatConfig | None = None, use_adapter: bool = True) -> str:
    """The whole answer to one question (greedy by default), for evaluation and tests."""
    return "".join(engine.stream([{"role": "user", "content": question}], cfg, use_adapter)).strip()
