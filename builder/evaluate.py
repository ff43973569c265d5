"""Does the tuned model know the documents better than the base? Asked, closed-book and open-book.

    engine = load_engine(run, project_cfg)                                   # runs.load_engine
    report = evaluate_run(engine, project, project_cfg, run)                 # or: dab eval --project P
    report = evaluate_run(engine, project, project_cfg, run, references)     # your own questions
    report["headline"]   # {"set": "recall", "questions": 33, "tuned_closed": 0.52, "base_closed": 0.0, ...}

Base and tuned are the same loaded weights with the adapter switched off and on. The questions
come from ``eval_sets``: **recall** (held-out phrasings of trained facts, or the sample's
hand-written questions), **unseen** passages, and **unanswerable** questions. Each model answers
each question twice, greedily, with the system prompt the run trained with:

- **closed-book**: the question alone; does the model *know* the fact?
- **open-book**: the question over the passages chat would find for it (``answers.find_passages``,
  ``passages_k`` of them, re-ranked when chat re-ranks; the prompt chat uses:
  ``retrieve.ground_messages``); does it *read*?

Measures, per set, model and mode: **fact accuracy** (the share of answers that state every key
fact of the reference: numbers, money, dates, codes, names; ``generation.states_facts``), the
share of answers that say the documents do not cover the question (``abstained``: wanted on the
unanswerable set, a miss elsewhere), token F1 and ROUGE-L against the reference, and for
closed-book answers the answer NLL / perplexity of the reference (teacher-forced, assistant
tokens only). Retrieval recall@k per set: the share of questions with a retrieved passage that
holds the reference's key facts. The headline is tuned closed-book fact accuracy on the recall
set (what the model learned), next to open-book (what chat answers by default) and the base's.

Answers get room for 1.5x their reference's length + 16 tokens (at most 128; 48 for
unanswerable questions). The report is saved in the run folder as ``eval.json`` and ``eval.md``
(``eval_report.report_markdown``).

``on_progress(fraction, message)`` hears after each batch of answers how many of all were given
and the time left ("asking the recall questions · 40 of 132 answers · about 3 min left": each
question is asked four times, base and tuned, closed- and open-book), measured per answer so far.
"""

import contextvars
import math
import time
from collections import Counter
from typing import Callable

from . import torch_thread
from .answers import abstained, find_passages
from .chat import ChatEngine
from .config import ChatConfig, ProjectConfig
from .conversation import IGNORE_INDEX, tokenize_conversation
from .dataset import pair_messages
from .eval_report import headline, save_report
from .eval_sets import EvalSets, evaluation_sets
from .generation import greedy_texts, states_facts
from .durations import duration
from .project import Project
from .rerank import passage_ranker
from .retrieve import Passage, ground_messages
from .runs import Run, chat_settings
from .train.data import collate_packed

MODELS = (("base", False), ("tuned", True))
MODES = ("closed", "open")
MAX_EVAL_NEW_TOKENS = 128
UNANSWERABLE_NEW_TOKENS = 48
Progress = Callable[[float, str], None]


def evaluate_run(engine: ChatEngine, project: Project, project_cfg: ProjectConfig, run: Run | None = None,
                 references: list[dict] | None = None, on_progress: Progress | None = None,
                 unanswerable: list[dict] | None = None) -> dict:
    """Base vs tuned, closed- and open-book, on the run's evaluation sets (``references`` and
    ``unanswerable`` replace the recall and unanswerable sets); saved in the run folder."""
    started = time.perf_counter()
    progress = on_progress or (lambda fraction, message: None)
    sets = evaluation_sets(project, run, references, unanswerable)
    trained = chat_settings(project_cfg, run)
    chat = ChatConfig(system_prompt=trained.system_prompt, context_tokens=trained.context_tokens,
                      max_new_tokens=trained.max_new_tokens, passages_k=trained.passages_k,
                      rerank=trained.rerank)  # greedy
    max_seq_tokens = (run.resolved_config(project_cfg) if run else project_cfg).train.max_seq_tokens
    report: dict = {"sets": {name: len(refs) for name, refs in sets.items()}, "passages_k": chat.passages_k,
                    "results": {}, "questions": []}
    jobs = [(name, refs) for name, refs in sets.items() if refs]
    counter = AnswerCount(sum(len(refs) for _, refs in jobs) * len(MODELS) * len(MODES), progress)
    for name, refs in jobs:
        counter.label = f"asking the {name} questions"
        counter.add(0)
        rows, results = ask_set(engine, project, name, refs, chat, max_seq_tokens, counter.add)
        report["results"][name] = results
        report["questions"] += rows
    progress(1.0, "done")
    report.update(headline=headline(report), wall_s=round(time.perf_counter() - started, 1))
    if run is not None:
        save_report(report, run)
    return report


class AnswerCount:
    """Answers given of all, and the time left from the time measured per answer, told to
    ``on_progress`` in the caller's context (answers come from the torch thread; Gradio finds its
    event in the context)."""

    def __init__(self, total: int, on_progress: Progress, clock=time.monotonic):
        self.total, self.done, self.label, self.on_progress, self.clock = total, 0, "", on_progress, clock
        self.started_s, self.context = clock(), contextvars.copy_context()

    def add(self, answered: int) -> None:
        self.done += answered
        parts = [self.label, f"{self.done} of {self.total} answers"]
        if self.done:
            left_s = (self.clock() - self.started_s) / self.done * (self.total - self.done)
            parts.append(f"about {duration(left_s)} left" if self.done < self.total else "scoring")
        self.context.run(self.on_progress, self.done / max(self.total, 1), " · ".join(parts))


def ask_set(engine: ChatEngine, project: Project, name: str, refs: list[dict], chat: ChatConfig,
            max_seq_tokens: int, on_answers: Callable[[int], None] | None = None) -> tuple[list[dict], dict]:
    """Both models, both modes, on one set: per-question rows and the set's averages."""
    ranker = passage_ranker(engine, chat)
    passages = [find_passages(project, [{"role": "user", "content": ref["question"]}], chat.passages_k, ranker)
                for ref in refs]
    budgets = [min(UNANSWERABLE_NEW_TOKENS, chat.max_new_tokens)] * len(refs) if name == "unanswerable" \
        else answer_budgets(engine, refs, chat)
    rows = [{"set": name, "question": r["question"], "reference": r.get("answer", ""),
             "passages": [describe(p) for p in found]} for r, found in zip(refs, passages)]
    results: dict = {"closed": {}, "open": {}}
    for model, use_adapter in MODELS:
        for mode in MODES:
            texts = answers(engine, refs, passages if mode == "open" else None, chat, use_adapter, budgets, on_answers)
            for row, text, ref in zip(rows, texts, refs):
                row[f"{model}_{mode}"] = text
                row[f"{model}_{mode}_right"] = states_facts(text, ref) if ref.get("answer") else None
            results[mode][model] = summarise(texts, refs)
        if name != "unanswerable":
            results["closed"][model].update(nll_summary(answer_nlls(engine, refs, chat.system_prompt,
                                                                    max_seq_tokens, use_adapter)))
    if name != "unanswerable":
        results["retrieval"] = {"k": chat.passages_k, "recall_at_k": retrieval_recall(passages, refs)}
    return rows, results


def answers(engine: ChatEngine, refs: list[dict], passages: list[list[Passage]] | None, chat: ChatConfig,
            use_adapter: bool, budgets: list[int], on_answers: Callable[[int], None] | None = None) -> list[str]:
    """Greedy answers, closed-book (``passages`` None) or over the given passages; ``on_answers(n)``
    after each batch."""
    special = engine.tokenizer.all_special_tokens
    conversations = [[{"role": "user", "content": ref["question"]}] for ref in refs]
    if passages is not None:
        conversations = [ground_messages(messages, found, special) for messages, found in zip(conversations, passages)]
    prompts = [engine.prompt_ids(messages, chat) for messages in conversations]

    def generate() -> list[str]:
        with engine.adapter_enabled(use_adapter):
            return greedy_texts(engine.model, engine.tokenizer, prompts, budgets, on_batch=on_answers)

    return torch_thread.call(generate)


def answer_nlls(engine: ChatEngine, refs: list[dict], system_prompt: str, max_seq_tokens: int,
                use_adapter: bool) -> list[tuple[float, int]]:
    """Per reference: (summed NLL of its answer tokens, number of answer tokens), closed-book."""
    import torch

    def score() -> list[tuple[float, int]]:
        rows = []
        with torch.inference_mode(), engine.adapter_enabled(use_adapter):
            for ref in refs:
                messages = pair_messages(ref["question"], ref["answer"], system_prompt)
                with engine.tokenizer_lock:
                    example, _ = tokenize_conversation(engine.tokenizer, messages, max_seq_tokens)
                batch = {k: v.to(engine.model.device) for k, v in collate_packed([example]).items()}
                n = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
                rows.append((engine.model(**batch).loss.item() * n, n))
        return rows

    return torch_thread.call(score)


def answer_budgets(engine: ChatEngine, refs: list[dict], chat: ChatConfig) -> list[int]:
    """Per reference, room for an answer a little longer than it (1.5x + 16 tokens)."""
    with engine.tokenizer_lock:
        encoded = engine.tokenizer([ref["answer"] for ref in refs], add_special_tokens=False)["input_ids"]
    return [max(8, min(chat.max_new_tokens, MAX_EVAL_NEW_TOKENS, int(len(ids) * 1.5) + 16)) for ids in encoded]


def summarise(texts: list[str], refs: list[dict]) -> dict:
    """Fact accuracy (over references with key facts), abstentions, token F1 and ROUGE-L."""
    verdicts = [states_facts(t, r) for t, r in zip(texts, refs) if r.get("answer")]
    checked = [v for v in verdicts if v is not None]
    scored = [(t, r["answer"]) for t, r in zip(texts, refs) if r.get("answer")]
    mean = lambda values: round(sum(values) / len(values), 4) if values else None  # noqa: E731
    return {"fact_accuracy": mean(checked), "facts_checked": len(checked),
            "abstained": mean([abstained(t) for t in texts]),
            "token_f1": mean([token_f1(t, ref) for t, ref in scored]),
            "rouge_l": mean([rouge_l(t, ref) for t, ref in scored])}


def nll_summary(nlls: list[tuple[float, int]]) -> dict:
    nll = sum(total for total, _ in nlls) / max(sum(n for _, n in nlls), 1)
    return {"answer_nll": round(nll, 4), "perplexity": round(math.exp(nll), 2)}


def retrieval_recall(passages: list[list[Passage]], refs: list[dict]) -> float | None:
    """Share of references with key facts for which some retrieved passage states them all."""
    hits = [any(states_facts(p.text, ref) for p in found) for found, ref in zip(passages, refs)
            if states_facts(ref["answer"], ref) is not None]
    return round(sum(hits) / len(hits), 4) if hits else None


def describe(passage: Passage) -> dict:
    return {"document": passage.document, "heading": " › ".join(passage.heading_path), "chunk_id": passage.chunk_id}


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric tokens, as ROUGE tokenizes them."""
    from rouge_score.tokenizers import DefaultTokenizer

    return DefaultTokenizer(use_stemmer=False).tokenize(text)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style F1 of the word overlap between an answer and the reference."""
    pred, ref = words(prediction), words(reference)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (longest common subsequence) of an answer against the reference."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"]).score(reference, prediction)["rougeL"].fmeasure
