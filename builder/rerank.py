"""Re-ranking searched passages with the chat model: after which passage is the question most likely?

    ranker = passage_ranker(engine, chat_cfg)        # None when re-ranking is off for this engine
    best = ranker(question, candidates)[:k]          # the candidates, best first

BM25 (``retrieve``) finds passages that share the question's words, but users ask in their own
words: "What does the setup help package cost?" of a page that says "QuickStart onboarding costs
$350" shares only "cost". Query likelihood (UPR: Sachan et al., "Improving Passage Retrieval with
Zero-Shot Question Generation", 2022) asks the language model instead: having read a passage, how
likely is this question? The passage that answers it makes the question's words likely, synonyms
included. Each of the ``CANDIDATES`` best BM25 passages, as the prompt would quote it (its
``retrieve.excerpt`` for the question), is read by the model with the adapter switched off (the
same judge before and after training), and the mean log-probability of the question's tokens
after it is added to the passage's BM25 score scaled to [0, 1], so the words still count where
the model cannot tell passages apart.

Measured with the bundled 135M model (``bench/rerank.py``: the sample corpus and two unseen
ones, 111 hand-written questions): recall@3 0.78 -> 0.86 (README, Performance). It costs one
forward pass over the candidates (~8 x 150 tokens): 1.5-1.9 s a question on a 2-core CPU, a
pass a GPU does in milliseconds. So ``ChatConfig.rerank`` "auto" re-ranks when the model runs
on a GPU and not on a CPU, where the first token would come ~3x later; "on" and "off" decide
for any device.
"""

import functools
from pathlib import Path
from typing import Callable, Sequence

from . import torch_thread
from .config import ChatConfig
from .conversation import text_ids
from .retrieve import Passage, excerpt, terms

CANDIDATES = 8  # BM25 passages the model reads per question
MAX_QUESTION_TOKENS = 96  # a longer question is judged by its last tokens
READING = "Passage ({source}):\n{text}\n\nA question this passage answers:"

Ranker = Callable[[str, Sequence[Passage]], list[Passage]]


def reranks(chat_cfg: ChatConfig, device_type: str) -> bool:
    """Whether answers re-rank passages under ``chat_cfg`` on a model on ``device_type`` ("cpu", "cuda", ...)."""
    return chat_cfg.rerank == "on" or (chat_cfg.rerank == "auto" and device_type == "cuda")


def passage_ranker(engine, chat_cfg: ChatConfig) -> Ranker | None:
    """``rank`` bound to ``engine`` (a ``chat.ChatEngine``), or None when ``chat_cfg`` does not re-rank there."""
    return functools.partial(rank, engine) if reranks(chat_cfg, engine.model.device.type) else None


def reading_prompt(passage: Passage, question: str) -> str:
    """The text the model reads before the question: the passage's source and its excerpt."""
    source = " > ".join([Path(passage.document).stem, *passage.heading_path])
    return READING.format(source=source, text=excerpt(passage.text, question))


def rank(engine, question: str, passages: Sequence[Passage]) -> list[Passage]:
    """``passages`` best first by question likelihood plus scaled BM25 score (see the module docstring).
    A question with no words of its own to judge by ("Why?", searched through earlier turns) keeps
    search's order."""
    if len(passages) < 2 or not terms(question):
        return list(passages)
    best_bm25 = max(p.score for p in passages) or 1.0
    fused = [ll + p.score / best_bm25 for ll, p in zip(likelihoods(engine, question, passages), passages)]
    order = sorted(range(len(passages)), key=lambda i: -fused[i])
    return [passages[i] for i in order]


def likelihoods(engine, question: str, passages: Sequence[Passage]) -> list[float]:
    """Mean log-probability of ``question`` after each passage's ``reading_prompt``, by the base
    model (the adapter switched off, unless it is merged into the weights), on the torch thread."""
    with engine.tokenizer_lock:  # the tokenizer's special-token switch is shared state
        asked = text_ids(engine.tokenizer, " " + question.strip())[-MAX_QUESTION_TOKENS:]
        contexts = [text_ids(engine.tokenizer, reading_prompt(p, question)) for p in passages]

    def score() -> list[float]:
        import torch

        with torch.inference_mode(), engine.adapter_enabled(engine.merged):
            return question_log_likelihoods(engine.model, contexts, asked, engine.tokenizer.pad_token_id or 0)

    return torch_thread.call(score)


def question_log_likelihoods(model, contexts: list[list[int]], question: list[int], pad_id: int) -> list[float]:
    """Mean log-probability of ``question``'s tokens after each context, in one batch.

    Rows are padded on the left, so every row ends with the question and only its positions go
    through the output layer (``logits_to_keep``): the vocabulary projection of the context
    tokens, most of the work for a small model, is never computed."""
    import torch

    rows = [context + question for context in contexts]
    length = max(map(len, rows))
    ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, length - len(row):] = torch.tensor(row)
        mask[i, length - len(row):] = 1
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    device = model.device
    logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                   logits_to_keep=len(question) + 1).logits[:, :-1].float()
    targets = torch.tensor(question, device=device).expand(len(rows), -1)
    return logits.log_softmax(-1).gather(2, targets[..., None]).squeeze(2).mean(1).tolist()
