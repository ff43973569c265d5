"""Splits: training, recall (held-out phrasings of trained facts) and unseen passages."""

from dataclasses import replace

from builder.config import PairsConfig
from builder.records import Pair
from builder.splits import split_pairs


def fact_pairs(n_chunks: int = 40, facts_per_chunk: int = 2, phrasings: int = 4) -> list[Pair]:
    return [Pair(id=f"c{c}f{f}q{q}", question=f"Question {q} on fact {f} of chunk {c}?",
                 answer=f"Fact {f} of chunk {c}.", chunk_id=f"chunk{c}", generator="rules", fact=f"fact {c}-{f}")
            for c in range(n_chunks) for f in range(facts_per_chunk) for q in range(phrasings)]


def test_every_pair_has_one_role_and_unseen_passages_stay_whole():
    pairs = fact_pairs()
    splits = split_pairs(pairs, PairsConfig(eval_fraction=0.2, recall_fraction=0.3))
    assert sorted(p.id for p in splits.train + splits.recall + splits.unseen) == sorted(p.id for p in pairs)
    assert splits.unseen and splits.recall
    assert not {p.chunk_id for p in splits.unseen} & {p.chunk_id for p in splits.train + splits.recall}


def test_recall_holds_out_one_phrasing_and_its_fact_still_trains():
    pairs = fact_pairs()
    splits = split_pairs(pairs, PairsConfig(eval_fraction=0.0, recall_fraction=0.5))
    trained = {p.fact for p in splits.train}
    held_facts = [p.fact for p in splits.recall]
    assert len(held_facts) == len(set(held_facts)) and set(held_facts) <= trained
    assert all(p.id.endswith("q1") for p in splits.recall)  # the second phrasing: the first keeps training
    assert 0.3 < len(held_facts) / len({p.fact for p in pairs}) < 0.7


def test_splits_are_stable_when_pairs_are_added():
    pairs = fact_pairs()
    cfg = PairsConfig(eval_fraction=0.2, recall_fraction=0.3)
    before = split_pairs(pairs, cfg).roles()
    after = split_pairs(pairs + fact_pairs(50, 2, 4)[-40:], cfg).roles()
    assert all(after[pair_id] == role for pair_id, role in before.items())


def test_a_persons_choice_wins_and_their_own_pairs_train():
    pairs = fact_pairs(10)
    cfg = PairsConfig(eval_fraction=0.5, recall_fraction=0.0)
    roles = split_pairs(pairs, cfg).roles()
    unseen = next(p.id for p in pairs if roles[p.id] == "unseen")
    trained = next(p.id for p in pairs if roles[p.id] == "train")
    chosen = {unseen: "train", trained: "eval"}
    manual = Pair(id="m1", question="Who wrote this?", answer="Me.", chunk_id="manual-m1", generator="manual")
    moved = [replace(p, split=chosen.get(p.id, "")) for p in pairs] + [manual]
    roles = split_pairs(moved, cfg).roles()
    assert roles[unseen] == "train" and roles[trained] == "recall" and roles["m1"] == "train"


def test_tiny_data_trains_on_everything():
    pairs = fact_pairs(1, 1, 1)
    assert split_pairs(pairs, PairsConfig(eval_fraction=0.99)).train == pairs
