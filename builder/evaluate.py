"""Does the tuned model know the documents better than the base? Measured on held-out pairs.

    engine = load_engine(run, project_cfg)                       # runs.load_engine
    report = evaluate_run(engine, references, project_cfg, run)     # or: dab eval --project P

Base and tuned are the same loaded weights with the adapter switched off and on. Measures:

- answer NLL / perplexity: how surprised each model is by the reference answer, given the
  question (assistant tokens only; lower is better), with the system prompt and sequence length
  the run trained with;
- token F1 and ROUGE-L (``rouge-score``) of each model's greedy answer against the reference
  (higher is better). Answers get room for 1.5x their reference's length + 16 tokens, and
  are generated in left-padded batches of questions with similar limits, which is several
  times faster on a CPU than one question at a time.

References are ``{question, answer}`` rows (``heldout_pairs(project)``, or a JSONL file). The report
(averages plus a per-question table) is saved in the run folder as ``eval.json`` and ``eval.md``.
"""

import math
import time
from collections import Counter
from typing import Callable

from . import torch_thread
from .chat import ChatEngine
from .config import ChatConfig, ProjectConfig
from .conversation import IGNORE_INDEX, tokenize_conversation
from .dataset import pair_messages, split_pairs
from .pairs import training_pairs
from .project import Project
from .runs import Run, chat_settings
from .storage import atomic_write_text, write_json
from .templates import sample_heldout
from .train.data import collate_packed

MODELS = (("base", False), ("tuned", True))
MAX_EVAL_NEW_TOKENS = 128


def answer_nlls(engine: ChatEngine, pairs: list[dict], system_prompt: str, max_seq_tokens: int,
                use_adapter: bool) -> list[tuple[float, int]]:
    """Per pair: (summed NLL of the reference answer tokens, number of answer tokens)."""
    import torch

    def score() -> list[tuple[float, int]]:
        rows = []
        with torch.inference_mode(), engine.adapter_enabled(use_adapter):
            for pair in pairs:
                messages = pair_messages(pair["question"], pair["answer"], system_prompt)
                with engine.tokenizer_lock:
                    example, _ = tokenize_conversation(engine.tokenizer, messages, max_seq_tokens)
                batch = {k: v.to(engine.model.device) for k, v in collate_packed([example]).items()}
                n = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
                rows.append((engine.model(**batch).loss.item() * n, n))
        return rows

    return torch_thread.call(score)


def greedy_answers(engine: ChatEngine, questions: list[str], chat: ChatConfig, use_adapter: bool,
                   max_new_tokens: list[int], batch_size: int = 8) -> list[str]:
    """Greedy answers, at most ``max_new_tokens[i]`` tokens each, in left-padded batches of
    questions with similar limits (a batch runs until its longest answer is done)."""
    import torch

    prompts = [engine.prompt_ids([{"role": "user", "content": q}], chat) for q in questions]
    order = sorted(range(len(prompts)), key=lambda i: (max_new_tokens[i], len(prompts[i])))
    pad = engine.tokenizer.pad_token_id

    def generate() -> list[str]:
        answers = [""] * len(prompts)
        with torch.inference_mode(), engine.adapter_enabled(use_adapter):
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                width = max(len(prompts[i]) for i in batch)
                ids = torch.tensor([[pad] * (width - len(prompts[i])) + prompts[i] for i in batch])
                mask = torch.tensor([[0] * (width - len(prompts[i])) + [1] * len(prompts[i]) for i in batch])
                out = engine.model.generate(input_ids=ids.to(engine.model.device),
                                            attention_mask=mask.to(engine.model.device),
                                            max_new_tokens=max(max_new_tokens[i] for i in batch), do_sample=False,
                                            pad_token_id=pad, temperature=None, top_p=None, top_k=None)
                for row, i in enumerate(batch):
                    answers[i] = engine.tokenizer.decode(out[row, width:width + max_new_tokens[i]],
                                                         skip_special_tokens=True).strip()
        return answers

    return torch_thread.call(generate)


def heldout_pairs(project: Project) -> list[dict]:
    """Questions the tuned model never trained on, as {question, answer} rows: the sample's own
    set, else the project's eval split."""
    project_cfg = project.load_config()
    if project_cfg.name == "sample":
        return sample_heldout()
    held = split_pairs(training_pairs(project.pairs()), project_cfg.pairs.eval_fraction, project_cfg.pairs.seed)[1]
    return [{"question": pair.question, "answer": pair.answer} for pair in held]


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


def answer_budgets(engine: ChatEngine, pairs: list[dict], chat: ChatConfig) -> list[int]:
    """Per pair, room for an answer a little longer than its reference (1.5x + 16 tokens)."""
    with engine.tokenizer_lock:
        encoded = engine.tokenizer([pair["answer"] for pair in pairs], add_special_tokens=False)["input_ids"]
    return [max(8, min(chat.max_new_tokens, MAX_EVAL_NEW_TOKENS, int(len(ids) * 1.5) + 16)) for ids in encoded]


def evaluate_run(engine: ChatEngine, pairs: list[dict], project_cfg: ProjectConfig, run: Run | None = None,
                 on_progress: Callable[[float, str], None] | None = None) -> dict:
    """Base vs tuned on reference ``pairs``; saves ``eval.json`` and ``eval.md`` in the run's folder if given."""
    started = time.perf_counter()
    progress = on_progress or (lambda fraction, message: None)
    trained = chat_settings(project_cfg, run)
    chat = ChatConfig(system_prompt=trained.system_prompt, context_tokens=trained.context_tokens)  # greedy
    max_seq_tokens = (run.resolved_config(project_cfg) if run else project_cfg).train.max_seq_tokens
    budgets = answer_budgets(engine, pairs, project_cfg.chat)
    rows = [{"question": p["question"], "reference": p["answer"]} for p in pairs]
    report = {"pairs": len(pairs)}
    for step, (name, use_adapter) in enumerate(MODELS):
        progress(step / 2, f"scoring the {name} model's answers")
        nlls = answer_nlls(engine, pairs, chat.system_prompt, max_seq_tokens, use_adapter)
        answers = greedy_answers(engine, [p["question"] for p in pairs], chat, use_adapter, budgets)
        for row, (nll, n), text in zip(rows, nlls, answers):
            row.update({f"{name}_answer": text, f"{name}_nll": round(nll / max(n, 1), 4),
                        f"{name}_f1": round(token_f1(text, row["reference"]), 4),
                        f"{name}_rouge_l": round(rouge_l(text, row["reference"]), 4)})
        report[name] = summarise(rows, nlls, name)
    progress(1.0, "done")
    report.update(max_new_tokens=max(budgets), wall_s=round(time.perf_counter() - started, 1), questions=rows)
    if run is not None:
        save_report(report, run)
    return report


def summarise(rows: list[dict], nlls: list[tuple[float, int]], name: str) -> dict:
    """Averages for one model: answer NLL and perplexity, token F1 and ROUGE-L."""
    nll = sum(total for total, _ in nlls) / max(sum(n for _, n in nlls), 1)
    mean = lambda key: round(sum(r[f"{name}_{key}"] for r in rows) / max(len(rows), 1), 4)  # noqa: E731
    return {"answer_nll": round(nll, 4), "perplexity": round(math.exp(nll), 2),
            "token_f1": mean("f1"), "rouge_l": mean("rouge_l")}


def save_report(report: dict, run: Run) -> None:
    """``eval.json`` (everything) and ``eval.md`` (summary + per-question table) in the run's folder."""
    write_json(run.eval_path, report)
    atomic_write_text(run.folder / "eval.md", report_markdown(report))


def report_markdown(report: dict) -> str:
    """The report as Markdown: a summary table, then one row per question."""
    cell = lambda value: str(value).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [f"# Evaluation on {report['pairs']} held-out questions", "",
             "| metric | base | tuned | better |", "|---|---|---|---|"]
    for metric, lower_is_better in (("answer_nll", True), ("perplexity", True), ("token_f1", False), ("rouge_l", False)):
        lines.append(f"| {metric} | {report['base'][metric]} | {report['tuned'][metric]} | "
                     f"{'lower' if lower_is_better else 'higher'} |")
    lines += ["", f"Greedy answers of at most 1.5x the reference + 16 tokens (up to {report['max_new_tokens']}); "
              f"{report['wall_s']} s in all.", "",
              "| question | reference | base answer | tuned answer | base F1 | tuned F1 | base ROUGE-L | tuned ROUGE-L |",
              "|---|---|---|---|---|---|---|---|"]
    for row in report["questions"]:
        lines.append("| " + " | ".join(cell(row[key]) for key in (
            "question", "reference", "base_answer", "tuned_answer", "base_f1", "tuned_f1",
            "base_rouge_l", "tuned_rouge_l")) + " |")
    return "\n".join(lines) + "\n"
