"""The one way a conversation becomes token ids: for training, evaluation and chat alike.

    ids = encode_chat(tokenizer, messages)                        # a prompt, ending where the answer starts
    ids = encode_chat(tokenizer, messages, add_generation_prompt=False)   # a whole conversation
    example, truncated = tokenize_conversation(tokenizer, messages, max_tokens)   # + assistant-only labels

The model's chat template lays out the turns; every message's content is tokenized on its own,
as plain text (``split_special_tokens=True``), so a control token typed in a message
(``<|im_end|>``) stays text and can never close a turn or open a system message. Pairs are
stored with such markers already made inert (``pairs.validate.neutralize_control_tokens``);
this covers what was typed anywhere else. The split-special-tokens switch is shared state of
the tokenizer: code that encodes from several threads holds a lock (``ChatEngine.tokenizer_lock``).
"""

import re
from dataclasses import dataclass

IGNORE_INDEX = -100
_MARK = re.compile("\ue000(\\d+)\ue001")  # private-use characters: never in a chat template


@dataclass
class Example:
    """One tokenized conversation; ``labels`` are ``IGNORE_INDEX`` except on the answer."""

    input_ids: list[int]
    labels: list[int]


def encode_chat(tokenizer, messages: list[dict], add_generation_prompt: bool = True) -> list[int]:
    """Chat-template ids with every message content tokenized as text (control tokens split)."""
    marked = [{**m, "content": f"\ue000{i}\ue001"} for i, m in enumerate(messages)]
    text = tokenizer.apply_chat_template(marked, tokenize=False, add_generation_prompt=add_generation_prompt)
    ids, pos = [], 0
    for match in _MARK.finditer(text):
        ids += tokenizer(text[pos:match.start()], add_special_tokens=False)["input_ids"]
        ids += text_ids(tokenizer, messages[int(match[1])]["content"])
        pos = match.end()
    return ids + tokenizer(text[pos:], add_special_tokens=False)["input_ids"]


def text_ids(tokenizer, text: str) -> list[int]:
    """Token ids of ``text`` as plain text: a control token written in it is split, not matched."""
    return tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]


def tokenize_conversation(tokenizer, messages: list[dict], max_tokens: int) -> tuple[Example, bool]:
    """Token ids of the whole conversation, labels only on the final assistant turn.

    Returns the example and whether it had to be truncated to ``max_tokens``.
    """
    prompt_ids = encode_chat(tokenizer, messages[:-1], add_generation_prompt=True)
    full_ids = encode_chat(tokenizer, messages, add_generation_prompt=False)
    if full_ids[: len(prompt_ids)] != prompt_ids:  # template not prefix-stable: fall back to a plain join
        full_ids = prompt_ids + text_ids(tokenizer, messages[-1]["content"])
        if tokenizer.eos_token_id is not None:
            full_ids.append(tokenizer.eos_token_id)
    labels = [IGNORE_INDEX] * len(prompt_ids) + full_ids[len(prompt_ids):]
    truncated = len(full_ids) > max_tokens
    return Example(full_ids[:max_tokens], labels[:max_tokens]), truncated


def conversation_lengths(tokenizer, conversations: list[list[dict]]) -> list[int]:
    """Untruncated token count of each conversation (to size sequences before training)."""
    return [len(encode_chat(tokenizer, messages, add_generation_prompt=False)) for messages in conversations]
