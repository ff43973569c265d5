"""Packed-row attention on CPU: the same losses, gradients and generations as transformers' sdpa.

    .venv/bin/python -m pytest tests/test_packed_attention.py -q
"""

import pytest
import torch

from builder.train.attention import example_bounds, packed_sdpa

from .test_train_loop import assert_trains_like_the_model_loss


def load(tiny_model_dir, attention: str):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=attention)


@pytest.mark.parametrize("positions, bounds", [
    ([0, 1, 2, 3, 4, 0, 1, 2, 3], [0, 5, 9]),
    ([0, 1, 2, 3], [0, 4]),
    ([0, 1, 0, 0, 1], [0, 2, 3, 5]),
    ([1, 2, 3], None),  # does not start at 0: not a packed row
    ([0, 1, 3, 4], None),  # a gap
])
def test_example_bounds_follow_the_restarting_positions(positions, bounds):
    assert example_bounds(torch.tensor([positions]), len(positions)) == bounds


def test_a_packed_row_trains_like_the_block_causal_mask(tiny_model_dir):
    """Each example attends only within itself: the loss and every gradient match ``model(**batch).loss``,
    and the row's logits match sdpa's block-causal mask (training runs without a cache) and each
    example run alone."""
    from builder.conversation import Example
    from builder.train.data import collate_packed
    from builder.train.recipe import next_token_loss

    torch.manual_seed(0)
    packed, plain = load(tiny_model_dir, packed_sdpa()), load(tiny_model_dir, "sdpa")
    assert_trains_like_the_model_loss(packed, next_token_loss)
    row = [Example(list(range(5, 5 + n)), [-100] * n) for n in (7, 3, 12, 1, 9)]
    batch = {k: v for k, v in collate_packed(row).items() if k != "labels"}
    logits = packed(**batch, use_cache=False).logits
    torch.testing.assert_close(logits, plain(**batch, use_cache=False).logits)
    alone = [plain(input_ids=torch.tensor([example.input_ids])).logits for example in row]
    torch.testing.assert_close(logits, torch.cat(alone, dim=1))


def test_generation_with_padding_and_a_cache_is_unchanged(tiny_model_dir):
    """Batched, left-padded generation (the recall check's) goes through sdpa with its mask."""
    packed, plain = load(tiny_model_dir, packed_sdpa()), load(tiny_model_dir, "sdpa")
    inputs = {"input_ids": torch.tensor([[1, 1, 1, 5, 6, 7], [5, 6, 7, 8, 9, 10]]),
              "attention_mask": torch.tensor([[0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]])}
    settings = {"max_new_tokens": 6, "do_sample": False, "pad_token_id": 1}
    assert torch.equal(packed.generate(**inputs, **settings), plain.generate(**inputs, **settings))
