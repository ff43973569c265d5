"""Chunking: heading paths, token bounds, stable ids, linear time on a long single line."""

import time

import pytest

from builder.chunking import chunk_markdown, split_sections
from builder.config import ChunkConfig


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


DOC = """# Membership Guide

Intro paragraph about the Commons.

## Fees

The Day Pass costs 4.50 euro. The Monthly Pass costs 14 euro.

### Late payment

A late payment costs 5 euro.

```
# not a heading inside code
```

## Contacts

Call the Rider Helpline.
"""


def test_sections_keep_heading_paths_and_ignore_code_fences():
    sections = split_sections(DOC)
    paths = [path for path, _ in sections]
    assert paths == [["Membership Guide"], ["Membership Guide", "Fees"],
                     ["Membership Guide", "Fees", "Late payment"], ["Membership Guide", "Contacts"]]
    assert "# not a heading inside code" in sections[2][1]


def test_chunks_are_token_bounded_with_stable_ids(tokenizer):
    cfg = ChunkConfig(chunk_tokens=40, overlap_tokens=8)
    long_doc = DOC + "\n## Rules\n\n" + " ".join(f"Rule {i} says riders must dock the bike." for i in range(60))
    chunks = chunk_markdown("src1", long_doc, tokenizer, cfg)
    assert all(c.tokens <= 40 for c in chunks)
    for c in chunks:
        assert c.tokens == len(tokenizer(c.text, add_special_tokens=False)["input_ids"])
    rules = [c for c in chunks if c.heading_path[-1] == "Rules"]
    assert len(rules) > 5
    assert [c.id for c in chunk_markdown("src1", long_doc, tokenizer, cfg)] == [c.id for c in chunks]
    assert chunk_markdown("src2", long_doc, tokenizer, cfg)[0].id != chunks[0].id
    joined = " ".join(c.text for c in rules)
    assert "Rule 0 says" in joined and "Rule 59 says" in joined


def test_default_size_and_overlap_are_sensible():
    cfg = ChunkConfig()
    assert 256 <= cfg.chunk_tokens <= 512 and 0.05 <= cfg.overlap_tokens / cfg.chunk_tokens <= 0.25


def test_long_single_line_chunks_in_bounded_time(tokenizer):
    line = "riders must dock the bike at a station " * 50_000  # ~2 MB, one line, no headings
    started = time.perf_counter()
    chunks = chunk_markdown("big", line, tokenizer, ChunkConfig(chunk_tokens=256, overlap_tokens=16))
    assert time.perf_counter() - started < 20
    assert all(c.tokens <= 256 for c in chunks) and len(chunks) > 1000
