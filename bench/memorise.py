"""How well training memorises a corpus's facts, by passes and tokens per optimizer step; CPU, bundled model.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/memorise.py                       # 4 passes, 1 vs 4 rows a step
    HF_HUB_OFFLINE=1 .venv/bin/python bench/memorise.py --epochs 4 10 --rows 1 \
        --out bench/results/memorise-passes-cpu.json
    HF_HUB_OFFLINE=1 .venv/bin/python bench/memorise.py --corpus bench/corpora/hollinvale-housing \
        --documents residents-faq.md tenancy-handbook.txt --epochs 6

Two documents of an unseen corpus, their default pairs, and the product's training
(``run_training``, closed-book only, 512-token rows) run once per number of passes and rows per
optimizer step, in the same process. With the same passes, one row a step (what the CPU presets
do) and four rows a step (2,048 tokens, the presets' earlier choice) see exactly the same
tokens, so CPU time is about the same; what differs is the number of updates. Reported for each
run: optimizer steps, the mean training loss of the last pass, and fact accuracy
(``generation.fact_accuracy``: does the answer state the reference's key facts?), asked
closed-book, on three sets: trained questions asked verbatim ("the model memorised its pairs"),
the held-out phrasings of trained facts (the recall split), and the corpus's hand-written
questions about the same two documents (users' own wording). Written to ``--out``.
"""

import argparse
import json
import random
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.conversation import encode_chat  # noqa: E402
from builder.documents import ingest_and_chunk  # noqa: E402
from builder.eval_sets import reference  # noqa: E402
from builder.generation import fact_accuracy, greedy_texts  # noqa: E402
from builder.pairs import generate_pairs, training_pairs  # noqa: E402
from builder.project import new_project  # noqa: E402
from builder.runs import load_engine, newest_trained_run  # noqa: E402
from builder.splits import split_pairs  # noqa: E402
from builder.storage import read_jsonl  # noqa: E402
from builder.train import run_training  # noqa: E402
from builder.train.loop import recall_messages  # noqa: E402

ROW_TOKENS = 512
QUESTIONS = 24  # trained questions asked after training
ANSWER_TOKENS = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "bench" / "corpora" / "tallystack-support")
    parser.add_argument("--documents", nargs="+", default=["support-policy.md", "plans-and-prices.html"])
    parser.add_argument("--epochs", type=float, nargs="+", default=[4.0], help="passes, a run each")
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "memorise-cpu.json")
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 4], help="rows per optimizer step, a run each")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dab-memorise-"))
    try:
        project = new_project(folder / "project")
        ingest_and_chunk(project, [args.corpus / name for name in args.documents])
        generate_pairs(project)
        handwritten = [q for q in read_jsonl(args.corpus / "questions.jsonl") if q["source"] in args.documents]
        results = {f"{epochs:g} passes, {rows} row(s) a step": train_and_ask(project, rows, epochs, args.learning_rate,
                                                                             handwritten)
                   for epochs in args.epochs for rows in args.rows}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {"corpus": args.corpus.name, "documents": args.documents, "epochs": args.epochs,
              "learning_rate": args.learning_rate, "row_tokens": ROW_TOKENS, "results": results}
    for name, figures in results.items():
        print(f"{name}: {figures}")
    out = args.out
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


def train_and_ask(project, rows_per_step: int, epochs: float, learning_rate: float, handwritten: list[dict]) -> dict:
    """One closed-book run with ``rows_per_step`` rows an optimizer step; its steps, last loss and
    fact accuracy on trained questions asked verbatim, on held-out phrasings and on ``handwritten``."""
    cfg = project.load_config()
    cfg.train = replace(cfg.train, preset="custom", epochs=epochs, learning_rate=learning_rate, quantize="none",
                        max_seq_tokens=ROW_TOKENS, micro_batch=1, grad_accum=rows_per_step, lora_rank=16,
                        lora_alpha=32, open_book_fraction=0.0, abstain_fraction=0.0, recall_check=False)
    status = run_training(project, project_cfg=cfg)
    run = newest_trained_run(project)
    splits = split_pairs(training_pairs(project.pairs()), cfg.pairs)
    trained = random.Random(0).sample(splits.train, min(QUESTIONS, len(splits.train)))
    engine = load_engine(run, cfg)
    closed_book = replace(run.config().chat, grounded=False)

    def right(questions: list[str], references: list[dict]) -> tuple[float | None, int]:
        prompts = [encode_chat(engine.tokenizer, messages) for messages in
                   recall_messages(project, questions, closed_book, engine.tokenizer.all_special_tokens)]
        return fact_accuracy(greedy_texts(engine.model, engine.tokenizer, prompts, [ANSWER_TOKENS] * len(prompts)),
                             references)

    losses = [row["loss"] for row in read_jsonl(run.folder / "metrics.jsonl") if "loss" in row and row["epoch"] > epochs - 1]
    figures = {"optimizer_steps": status["step"], "last_pass_loss": round(sum(losses) / len(losses), 3)}
    for name, questions, references in [
            ("trained_verbatim", [p.question for p in trained], [reference(p) for p in trained]),
            ("held_out_phrasings", [p.question for p in splits.recall], [reference(p) for p in splits.recall]),
            ("hand_written", [q["question"] for q in handwritten], handwritten)]:
        accuracy, checked = right(questions, references)
        figures[name] = {"right": accuracy, "checked": checked}
    return figures


if __name__ == "__main__":
    main()
