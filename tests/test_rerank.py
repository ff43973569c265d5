"""Re-ranking searched passages with the model (builder/rerank.py)."""

import pytest

from builder import retrieve
from builder.answers import find_passages, grounded_prompt
from builder.chat import ChatEngine
from builder.config import ChatConfig
from builder.errors import ConfigError
from builder.rerank import CANDIDATES, likelihoods, passage_ranker, question_log_likelihoods, rank, reranks

from .support import handbook_project

ASK = [{"role": "user", "content": "How much does a day pass cost?"}]


@pytest.fixture()
def project(project_dir, tiny_model_dir):
    retrieve.forget_indexes()
    return handbook_project(project_dir, tiny_model_dir)


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    return ChatEngine.load(str(tiny_model_dir))


def test_batched_likelihoods_equal_each_context_scored_alone(engine):
    """Left padding, position ids and the kept logits give each row what it gets unpadded."""
    import torch

    contexts = [[5, 9, 12, 7, 30, 31, 40], [8, 3], [11, 12, 13, 14]]
    question = [21, 22, 23, 24]
    with torch.inference_mode():
        batched = question_log_likelihoods(engine.model, contexts, question, pad_id=0)
        alone = []
        for context in contexts:
            logits = engine.model(input_ids=torch.tensor([context + question])).logits[0].float()
            logp = logits[len(context) - 1:-1].log_softmax(-1)
            alone.append(logp[torch.arange(len(question)), torch.tensor(question)].mean().item())
    assert batched == pytest.approx(alone, abs=1e-4)
    assert len(set(round(x, 3) for x in alone)) == 3  # the contexts do change the question's likelihood


def test_rank_orders_by_likelihood_plus_scaled_bm25(engine, project):
    candidates = retrieve.search(project, ASK[0]["content"], CANDIDATES)
    assert len(candidates) >= 2
    ranked = rank(engine, ASK[0]["content"], candidates)
    assert sorted(p.chunk_id for p in ranked) == sorted(p.chunk_id for p in candidates)  # the same passages
    best = max(p.score for p in candidates)
    fused = {p.chunk_id: ll + p.score / best
             for ll, p in zip(likelihoods(engine, ASK[0]["content"], candidates), candidates)}
    assert [fused[p.chunk_id] for p in ranked] == sorted(fused.values(), reverse=True)


def test_find_passages_keeps_the_rankers_best_k_of_the_candidates(project):
    searched = retrieve.search(project, ASK[0]["content"], CANDIDATES)
    seen = []

    def backwards(question, passages):
        seen.append((question, [p.chunk_id for p in passages]))
        return list(reversed(passages))

    found = find_passages(project, ASK, 2, backwards)
    assert seen == [(ASK[0]["content"], [p.chunk_id for p in searched])]
    assert [p.chunk_id for p in found] == [p.chunk_id for p in reversed(searched)][:2]
    assert find_passages(project, ASK, 2) == retrieve.search(project, ASK[0]["content"], 2)  # no ranker: BM25's
    prompt = grounded_prompt(project, ASK, ChatConfig(passages_k=2), ranker=backwards)
    assert [p.chunk_id for p in prompt.passages] == [p.chunk_id for p in found]


def test_a_huge_question_is_judged_by_its_end(engine, project):
    question = "x " * 50_000 + ASK[0]["content"]
    ranker = passage_ranker(engine, ChatConfig(rerank="on"))
    found = find_passages(project, [{"role": "user", "content": question}], 2, ranker)
    searched = retrieve.search(project, question, CANDIDATES)
    assert len(found) == 2 and {p.chunk_id for p in found} <= {p.chunk_id for p in searched}


def test_a_follow_up_without_words_of_its_own_keeps_the_search_order(engine, project):
    conversation = [*ASK, {"role": "assistant", "content": "4.50 euro."}, {"role": "user", "content": "Why?"}]
    ranker = passage_ranker(engine, ChatConfig(rerank="on"))
    assert find_passages(project, conversation, 2, ranker) == retrieve.search_messages(project, conversation, 2)


def test_a_question_matching_nothing_is_not_ranked(project):
    def never(question, passages):
        raise AssertionError("nothing to rank")

    assert find_passages(project, [{"role": "user", "content": "Quantum zebras of Jupiter?"}], 3, never) == []


def test_auto_reranks_on_a_gpu_only(engine):
    assert not reranks(ChatConfig(), "cpu") and reranks(ChatConfig(), "cuda")
    assert reranks(ChatConfig(rerank="on"), "cpu") and not reranks(ChatConfig(rerank="off"), "cuda")
    assert passage_ranker(engine, ChatConfig()) is None  # the tiny engine runs on the CPU
    assert passage_ranker(engine, ChatConfig(rerank="on")) is not None
    with pytest.raises(ConfigError, match="rerank must be one of auto, on, off"):
        ChatConfig(rerank="yes")


def test_the_base_model_judges_even_with_an_adapter_on(tiny_model_dir, tiny_adapter, engine, project):
    """The adapter is switched off while ranking: passages are judged as before training."""
    from builder import torch_thread
    from builder.conversation import text_ids
    from builder.rerank import reading_prompt

    tuned = ChatEngine.load(str(tiny_model_dir), adapter_dir=tiny_adapter)
    question = ASK[0]["content"]
    candidates = retrieve.search(project, question, CANDIDATES)
    base = likelihoods(engine, question, candidates)
    assert likelihoods(tuned, question, candidates) == pytest.approx(base, abs=1e-4)
    contexts = [text_ids(tuned.tokenizer, reading_prompt(p, question)) for p in candidates]

    def with_adapter():
        with tuned.adapter_enabled(True):
            return question_log_likelihoods(tuned.model, contexts, text_ids(tuned.tokenizer, " " + question), 0)

    assert torch_thread.call(with_adapter) != pytest.approx(base, abs=1e-4)  # the adapter would change them
