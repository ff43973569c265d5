"""Which pairs train the model and which test it: training, recall and unseen-passage sets.

    splits = split_pairs(pairs, pairs_cfg)     # PairsConfig: eval_fraction, recall_fraction, seed
    splits.train, splits.recall, splits.unseen
    splits.roles()[pair.id]                    # "train" | "recall" | "unseen"

Two held-out sets answer two questions:

- **recall**: one phrasing of some facts is held out while the fact's other phrasings train.
  Asking it after training tells whether the model *knows the fact*, asked in words it never
  saw: what users will do. Facts are picked by a hash of their statement (``recall_fraction``
  of the facts with at least ``MIN_PHRASINGS_FOR_RECALL`` phrasings); the held-out phrasing is
  the fact's second one (generators put their best question first, and it keeps training).
- **unseen**: every pair of some passages (``eval_fraction`` of the chunks, by a hash of the
  chunk id) stays out of training, so a pair and its paraphrase never sit on both sides. It
  tells whether the model reads passages it was never trained on (open-book), and that it does
  not pretend to know them closed-book.

A person decides over the rules: ``pair.split == "train"`` always trains, ``"eval"`` is always
held out (as recall when other phrasings of its fact train, else unseen). Pairs a person wrote
or imported train unless moved. The hashes make the sets stable when pairs are added or edited.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from .config import PairsConfig
from .records import BY_PERSON, Pair

MIN_PHRASINGS_FOR_RECALL = 3  # so that at least two phrasings of the fact still train
ROLES = ("train", "recall", "unseen")


@dataclass
class Splits:
    """The three sets, each in the order of the input pairs."""

    train: list[Pair] = field(default_factory=list)
    recall: list[Pair] = field(default_factory=list)
    unseen: list[Pair] = field(default_factory=list)

    @property
    def held_out(self) -> list[Pair]:
        return self.recall + self.unseen

    def roles(self) -> dict[str, str]:
        """``{pair id: role}`` for every pair."""
        return {p.id: name for name in ROLES for p in getattr(self, name)}


def bucket(key: str, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) for a chunk id or a fact."""
    digest = hashlib.sha256(f"{seed}:{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_pairs(pairs: list[Pair], pairs_cfg: PairsConfig) -> Splits:
    """Train, recall and unseen sets (see the module docstring); training is never left empty."""
    chosen = {p.id: first_role(p, pairs_cfg) for p in pairs}
    trained_facts = {p.fact for p in pairs if p.fact and chosen[p.id] == "train"}
    for pair in pairs:
        if pair.split == "eval":
            chosen[pair.id] = "recall" if pair.fact in trained_facts else "unseen"
    for pair in recall_picks(pairs, chosen, pairs_cfg):
        chosen[pair.id] = "recall"
    splits = Splits(**{name: [p for p in pairs if chosen[p.id] == name] for name in ROLES})
    if not splits.train and pairs:  # tiny data: train on everything rather than on nothing
        return Splits(train=list(pairs))
    return splits


def first_role(pair: Pair, pairs_cfg: PairsConfig) -> str:
    """The role before recall picks: a person's choice, else train or unseen by chunk."""
    if pair.split in ("train", "eval"):
        return "train" if pair.split == "train" else "unseen"
    if pair.generator in BY_PERSON:
        return "train"
    return "unseen" if bucket(pair.chunk_id, pairs_cfg.seed) < pairs_cfg.eval_fraction else "train"


def recall_picks(pairs: list[Pair], chosen: dict[str, str], pairs_cfg: PairsConfig) -> list[Pair]:
    """The second phrasing of each picked fact whose phrasings all train by default."""
    by_fact: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        if pair.fact and not pair.split and chosen[pair.id] == "train":
            by_fact[pair.fact].append(pair)
    return [group[1] for fact, group in by_fact.items()
            if len(group) >= MIN_PHRASINGS_FOR_RECALL and bucket(fact, pairs_cfg.seed) < pairs_cfg.recall_fraction]
