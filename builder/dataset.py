"""From reviewed pairs to training examples: a leakage-free split and chat-format messages.

All pairs of one chunk land on the same side of the train/eval split (a pair and its
paraphrase from the same passage must not sit on both sides), decided by a hash of the chunk id
so the split is stable when pairs are added or edited.
"""

import hashlib


def split_pairs(pairs: list[dict], eval_fraction: float, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Split by chunk: returns ``(train, eval)``; ``eval`` is empty when the fraction is 0."""
    if eval_fraction <= 0:
        return list(pairs), []
    train, held = [], []
    for pair in pairs:
        (held if chunk_bucket(pair["chunk_id"], seed) < eval_fraction else train).append(pair)
    if not train:  # tiny data: never leave training empty
        return held, []
    return train, held


def chunk_bucket(chunk_id: str, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) for a chunk."""
    digest = hashlib.sha256(f"{seed}:{chunk_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def to_messages(pair: dict, system_prompt: str = "") -> list[dict]:
    """One pair as a chat conversation (system prompt optional)."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": "user", "content": pair["question"]},
                       {"role": "assistant", "content": pair["answer"]}]
