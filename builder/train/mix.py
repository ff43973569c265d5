"""The conversations a run learns from: closed-book pairs, open-book (RAFT) examples, abstentions.

    mix = training_conversations(project, splits, run_cfg)
    mix.conversations()     # every example as chat messages: closed-book, then open-book, then abstentions
    mix.counts()            # {"closed_book": 1423, "open_book": 140, "abstain": 47}

- **closed-book**: every training pair as system prompt + question -> answer, so the model
  knows the facts without the documents at hand;
- **open-book** (retrieval-aware fine-tuning, RAFT): for ``open_book_fraction`` of the facts,
  one phrasing is asked over the passages that search finds for it, as chat asks it
  (``retrieve.ground_messages``: the same prompt, the same system prompt), with the fact's own
  passage always among them, in shuffled order -> the answer. The model learns to pick the
  passage and the sentence that answer the question, not a neighbour of it;
- **abstention**: for ``abstain_fraction`` of the facts, the question is asked over passages
  that do not state its answer (the fact's own passage and any passage holding the answer's
  key facts left out) -> ``retrieve.ABSTAIN_ANSWER``, so an unanswerable question gets "the
  documents do not cover this" rather than an invented figure.

Facts are chosen by a hash of their statement, so a run's mix is stable; passages never come
from passages held out for evaluation (``splits.unseen``). Open-book examples are several times
longer than closed-book ones (k passages), which is why only a share of the facts gets one.
"""

import random
from dataclasses import dataclass, field

from ..config import ProjectConfig
from ..dataset import pair_messages
from ..facts import answer_key_facts, fact_in_answer
from ..project import Project
from ..records import Pair
from ..retrieve import ABSTAIN_ANSWER, Passage, ground_messages, project_passages, search_all
from ..splits import Splits, bucket

SEARCH_DEPTH = 8  # passages searched per question, to have k left after removing the answer's own


@dataclass
class Mix:
    """The examples of a run, by kind; each example is a list of chat messages."""

    closed_book: list[list[dict]] = field(default_factory=list)
    open_book: list[list[dict]] = field(default_factory=list)
    abstain: list[list[dict]] = field(default_factory=list)

    def conversations(self) -> list[list[dict]]:
        return self.closed_book + self.open_book + self.abstain

    def counts(self) -> dict[str, int]:
        return {"closed_book": len(self.closed_book), "open_book": len(self.open_book), "abstain": len(self.abstain)}


def training_conversations(project: Project, splits: Splits, run_cfg: ProjectConfig) -> Mix:
    """Closed-book, open-book and abstention examples for the run (see the module docstring)."""
    system, tc, k = run_cfg.chat.system_prompt, run_cfg.train, run_cfg.chat.passages_k
    mix = Mix(closed_book=[pair_messages(p.question, p.answer, system) for p in splits.train])
    if (tc.open_book_fraction <= 0 and tc.abstain_fraction <= 0) or k <= 0:
        return mix
    held_chunks = {p.chunk_id for p in splits.unseen}
    passages = {p.chunk_id: p for p in project_passages(project)}
    rng = random.Random(tc.seed)
    picked = []  # (pair, open-book?) of the facts that get a grounded example; the rest stay closed-book
    for fact, pair in fact_leads(splits.train).items():
        share = bucket(f"mix:{fact}", tc.seed)
        if share < tc.open_book_fraction and pair.chunk_id in passages:
            picked.append((pair, True))
        elif share > 1 - tc.abstain_fraction:
            picked.append((pair, False))
    for (pair, open_book), found in zip(picked, search_all(project, [pair.question for pair, _ in picked], SEARCH_DEPTH)):
        found = [p for p in found if p.chunk_id not in held_chunks]
        if open_book:
            chosen = with_own_passage(found[:k], passages[pair.chunk_id])
            mix.open_book.append(grounded(system, pair.question, pair.answer, shuffled(chosen, rng)))
        else:
            others = [p for p in found if p.chunk_id != pair.chunk_id and not states_answer(p, pair)][:k]
            mix.abstain.append(grounded(system, pair.question, ABSTAIN_ANSWER, others))
    return mix


def fact_leads(pairs: list[Pair]) -> dict[str, Pair]:
    """The first (best) phrasing of each fact; a pair without a fact stands for itself."""
    leads: dict[str, Pair] = {}
    for pair in pairs:
        leads.setdefault(pair.fact or f"pair:{pair.id}", pair)
    return leads


def with_own_passage(found: list[Passage], own: Passage) -> list[Passage]:
    """``found`` with the answer's own passage in it (in place of the last one when missing)."""
    if any(p.chunk_id == own.chunk_id for p in found):
        return found
    return found[:-1] + [own] if found else [own]


def shuffled(passages: list[Passage], rng: random.Random) -> list[Passage]:
    """The passages in a random order: the answer's passage is not always first."""
    order = list(passages)
    rng.shuffle(order)
    return order


def states_answer(passage: Passage, pair: Pair) -> bool:
    """Whether ``passage`` holds every key fact of the pair's answer (then it may answer it)."""
    facts = answer_key_facts(pair.answer, pair.question)
    return bool(facts) and all(fact_in_answer(f, passage.text) for f in facts)


def grounded(system_prompt: str, question: str, answer: str, passages: list[Passage]) -> list[dict]:
    """System prompt + the question over ``passages`` (as chat asks it) + the answer."""
    messages = pair_messages(question, answer, system_prompt)
    return ground_messages(messages[:-1], passages) + messages[-1:]
