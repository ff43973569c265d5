"""Shared fixtures: a tiny random model and LoRA adapters built once per session, sample projects
in tmp dirs. The helpers they are built from live in ``tests/support.py``."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from .support import build_template, build_tiny_model, make_adapter, sample_texts, start_server  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama whose tokenizer covers the sample corpus vocabulary."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), sample_texts())


@pytest.fixture()
def project_dir(tmp_path) -> Path:
    return tmp_path / "project"


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


@pytest.fixture(scope="module")
def train_template(tmp_path_factory, tiny_model_dir) -> Path:
    """A sample project with rule-generated pairs on the tiny model; tests train on copies of it."""
    return build_template(tmp_path_factory.mktemp("template") / "project", tiny_model_dir)


@pytest.fixture(scope="module")
def review_template(tmp_path_factory):
    """The review tests' depot project (``test_review.make_project``), made once per module: tests
    take a fresh copy of it (``test_review.copy_of``)."""
    from .test_review import make_project

    return make_project(tmp_path_factory.mktemp("review") / "depot")


@pytest.fixture(scope="module")
def smol_shaped_run(tmp_path_factory):
    """A tiny random Llama with the bundled model's BPE tokenizer (one llama.cpp knows), and a run
    folder with a LoRA adapter for it."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from builder.models import load_tokenizer

    base = tmp_path_factory.mktemp("smol-shaped")
    tokenizer = load_tokenizer("bundled")
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)  # the same random weights every run: what a random model writes is then reproducible
    LlamaForCausalLM(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    run = tmp_path_factory.mktemp("smol-run")
    make_adapter(base, run / "adapter")
    return base, run


@pytest.fixture(scope="module")
def base_url(tiny_engine):
    """``dab serve``'s app for the tiny engine on a real port of 127.0.0.1 (answers of 12 tokens)."""
    from builder.config import ChatConfig
    from builder.serve import create_app

    server, thread, url = start_server(create_app(tiny_engine, ChatConfig(max_new_tokens=12), model_name="tiny"))
    yield url
    server.should_exit = True
    thread.join(10)
