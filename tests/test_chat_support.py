"""Shared helpers for the chat, evaluation, serving and export tests: LoRA adapters on the tiny model.

An adapter made here has random, non-zero LoRA weights (``lora_B`` is zero after a fresh
``get_peft_model``), so the tuned model really answers differently from the base model.
"""

import contextlib
from pathlib import Path

import pytest


def make_adapter(base_dir: Path, out_dir: Path, seed: int = 0, rank: int = 4) -> Path:
    """Save a LoRA adapter (all linear layers, non-zero weights) + tokenizer for ``base_dir``."""
    import torch
    from peft import LoraConfig, get_peft_model

    from builder.models import load_model, load_tokenizer

    torch.manual_seed(seed)
    model = get_peft_model(load_model(str(base_dir)), LoraConfig(r=rank, lora_alpha=2 * rank,
                                                                 target_modules="all-linear", task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.3)
    model.save_pretrained(out_dir)
    load_tokenizer(str(base_dir)).save_pretrained(out_dir)
    return Path(out_dir)


def make_other_base(folder: Path, tokenizer_dir: Path) -> Path:
    """A second tiny Llama with other layer sizes (a 'different base model'), same tokenizer."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    tokenizer.save_pretrained(folder)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1)
    LlamaForCausalLM(config).save_pretrained(folder)
    return Path(folder)


@pytest.fixture(scope="session")
def tiny_adapter(tiny_model_dir, tmp_path_factory) -> Path:
    return make_adapter(tiny_model_dir, tmp_path_factory.mktemp("runs") / "adapter", seed=1)


@pytest.fixture(scope="session")
def second_adapter(tiny_model_dir, tmp_path_factory) -> Path:
    return make_adapter(tiny_model_dir, tmp_path_factory.mktemp("runs2") / "adapter", seed=2)


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir, tiny_adapter):
    """One engine (tiny base + adapter) shared by the tests that only read from it."""
    from builder.chat import ChatEngine

    return ChatEngine.load(str(tiny_model_dir), tiny_adapter)


@contextlib.contextmanager
def endless(engine):
    """Answers that never meet an end-of-sequence token, so only a stop can end them early."""
    model = engine.model.get_base_model() if hasattr(engine.model, "get_base_model") else engine.model
    saved = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = None
    try:
        yield
    finally:
        model.generation_config.eos_token_id = saved
