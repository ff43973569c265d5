"""Batched greedy answers from token-id prompts, and whether an answer states the expected facts.

    texts = greedy_texts(model, tokenizer, prompts, max_new_tokens=[48, 32, ...])
    right = states_facts(answer, reference)    # True / False, None when the reference has no key fact

Used by evaluation (on the torch thread, adapter on or off) and by the training loop's recall
check (in the training process). Prompts are left-padded in batches of similar length and
budget, which is several times faster on a CPU than one question at a time; a batch runs until
its longest answer is done.

A reference is ``{"question", "answer"}``, optionally with ``"key_facts"``: the exact strings a
right answer must hold (hand-written question sets give them), and ``"evidence"``: the sentence
the answer quotes. Without key facts, those of the answer that the question does not give away
are extracted (``facts.answer_key_facts``); from its direct part only, when the answer states
the fact and then quotes its sentence ("At 10:00 am. On Wednesdays we open at 10:00 am ... and
close at 4:30 pm."): the question asks for the opening time, not for every figure of the quote.
Matching is ``facts.fact_in_answer``: ``€96`` matches ``€96.00``, a different figure does not.
"""

from collections.abc import Callable

from .facts import answer_key_facts, fact_in_answer, key_facts


def greedy_texts(model, tokenizer, prompts: list[list[int]], max_new_tokens: list[int], batch_size: int = 8,
                 on_batch: Callable[[int], None] | None = None, synced: bool = False) -> list[str]:
    """The greedy continuation of each prompt, at most ``max_new_tokens[i]`` tokens, as text;
    ``on_batch(n)`` is called after each batch with the number of prompts it answered. ``synced``:
    a sharded (FSDP) model, whose ranks must run every decoding step together (``synced_gpus``)."""
    import torch

    order = sorted(range(len(prompts)), key=lambda i: (max_new_tokens[i], len(prompts[i])))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    texts = [""] * len(prompts)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            width = max(len(prompts[i]) for i in batch)
            ids = torch.tensor([[pad] * (width - len(prompts[i])) + prompts[i] for i in batch])
            mask = torch.tensor([[0] * (width - len(prompts[i])) + [1] * len(prompts[i]) for i in batch])
            out = model.generate(input_ids=ids.to(model.device), attention_mask=mask.to(model.device),
                                 max_new_tokens=max(max_new_tokens[i] for i in batch), do_sample=False,
                                 pad_token_id=pad, temperature=None, top_p=None, top_k=None, synced_gpus=synced)
            for row, i in enumerate(batch):
                texts[i] = tokenizer.decode(out[row, width:width + max_new_tokens[i]], skip_special_tokens=True).strip()
            if on_batch:
                on_batch(len(batch))
    return texts


def states_facts(answer: str, reference: dict) -> bool | None:
    """Whether ``answer`` holds every key fact of ``reference`` (None: it has none to check)."""
    given = reference.get("key_facts")
    if given:
        return all(holds(answer, text) for text in given)
    facts = reference_facts(reference)
    return all(fact_in_answer(f, answer) for f in facts) if facts else None


def reference_facts(reference: dict) -> list:
    """The key facts a right answer must state: those of the direct answer before the quoted
    evidence when it has any, else those of the whole answer (the question's own left out)."""
    answer, question = reference["answer"], reference.get("question", "")
    evidence = (reference.get("evidence") or "").strip()
    direct = answer[:-len(evidence)].strip() if evidence and answer.endswith(evidence) else ""
    return (answer_key_facts(direct, question) if direct else []) or answer_key_facts(answer, question)


def holds(answer: str, expected: str) -> bool:
    """A hand-written key fact: its parsed values (tolerant) or, when it has none, its words."""
    facts = key_facts(expected)
    if facts:
        return all(fact_in_answer(f, answer) for f in facts)
    return " ".join(expected.lower().split()) in " ".join(answer.lower().split())


def fact_accuracy(answers: list[str], references: list[dict]) -> tuple[float | None, int]:
    """Share of the references with key facts whose answer states them all, and how many had some."""
    verdicts = [states_facts(a, r) for a, r in zip(answers, references)]
    checked = [v for v in verdicts if v is not None]
    return (round(sum(checked) / len(checked), 4) if checked else None), len(checked)
