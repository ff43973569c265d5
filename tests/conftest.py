"""Shared fixtures: a tiny random model built once per session, sample projects in tmp dirs."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from builder.workflow import sample_documents  # noqa: E402

from .tiny_model import build_tiny_model  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama whose tokenizer covers the sample corpus vocabulary."""
    texts = [p.read_text(encoding="utf-8", errors="ignore") for p in sample_documents()
             if p.suffix in {".md", ".txt", ".html"}]
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), texts)


@pytest.fixture()
def project_dir(tmp_path) -> Path:
    return tmp_path / "project"
