"""How well training memorises a corpus's facts, by tokens per optimizer step; CPU, bundled model.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/memorise.py
    HF_HUB_OFFLINE=1 .venv/bin/python bench/memorise.py --corpus bench/corpora/hollinvale-housing \
        --documents residents-faq.md tenancy-handbook.txt --epochs 6

Two documents of an unseen corpus, their default pairs, and the product's training
(``run_training``, closed-book only, the same passes, learning rate and 512-token rows) run
twice in the same process: one row per optimizer step (what the CPU presets do) and four rows
per step (2,048 tokens, the presets' earlier choice). Both see exactly the same tokens, so CPU
time is about the same; what differs is the number of updates. Reported for each: optimizer
steps, the mean training loss of the last pass, and fact accuracy on trained questions asked verbatim
(``generation.fact_accuracy``: does the answer state the reference's key facts?), which is
what "the model memorised its pairs" means. Written to ``bench/results/memorise-cpu.json``.
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
    parser.add_argument("--epochs", type=float, default=4.0)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dab-memorise-"))
    try:
        project = new_project(folder / "project")
        ingest_and_chunk(project, [args.corpus / name for name in args.documents])
        generate_pairs(project)
        results = {f"{rows} row(s) a step": train_and_ask(project, rows, args.epochs, args.learning_rate)
                   for rows in (1, 4)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {"corpus": args.corpus.name, "documents": args.documents, "epochs": args.epochs,
              "learning_rate": args.learning_rate, "row_tokens": ROW_TOKENS, "results": results}
    for name, figures in results.items():
        print(f"{name}: {figures}")
    out = ROOT / "bench" / "results" / "memorise-cpu.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


def train_and_ask(project, rows_per_step: int, epochs: float, learning_rate: float) -> dict:
    """One closed-book run with ``rows_per_step`` rows an optimizer step; its steps, last loss and
    fact accuracy on trained questions asked verbatim."""
    cfg = project.load_config()
    cfg.train = replace(cfg.train, preset="custom", epochs=epochs, learning_rate=learning_rate, quantize="none",
                        max_seq_tokens=ROW_TOKENS, micro_batch=1, grad_accum=rows_per_step, lora_rank=16,
                        lora_alpha=32, open_book_fraction=0.0, abstain_fraction=0.0, recall_check=False)
    status = run_training(project, project_cfg=cfg)
    run = newest_trained_run(project)
    trained = split_pairs(training_pairs(project.pairs()), cfg.pairs).train
    asked = random.Random(0).sample(trained, min(QUESTIONS, len(trained)))
    engine = load_engine(run, cfg)
    closed_book = replace(run.config().chat, grounded=False)
    prompts = [encode_chat(engine.tokenizer, messages) for messages in
               recall_messages(project, [p.question for p in asked], closed_book, engine.tokenizer.all_special_tokens)]
    texts = greedy_texts(engine.model, engine.tokenizer, prompts, [ANSWER_TOKENS] * len(prompts))
    accuracy, checked = fact_accuracy(texts, [reference(p) for p in asked])
    losses = [row["loss"] for row in read_jsonl(run.folder / "metrics.jsonl") if "loss" in row and row["epoch"] > epochs - 1]
    return {"optimizer_steps": status["step"], "last_pass_loss": round(sum(losses) / len(losses), 3),
            "trained_questions_right": accuracy, "checked": checked}


if __name__ == "__main__":
    main()
