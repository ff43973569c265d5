"""Does the default pipeline make a model that knows the documents? End to end, timed, on CPU.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/learn.py                        # the sample corpus
    HF_HUB_OFFLINE=1 .venv/bin/python bench/learn.py --corpus bench/corpora/tallystack-support
    HF_HUB_OFFLINE=1 .venv/bin/python bench/learn.py --preset balanced --keep /tmp/learn-project

What a new user gets, with the bundled model and no setting changed: documents ingested and
chunked, pairs from the default generator (``rules``), training with the project's default preset
(the sample project's, or a new project's), then the evaluation (``builder.evaluate``): base and
tuned, closed-book (from memory) and open-book (reading the passages retrieval finds).

Questions: the sample's hand-written ``heldout.jsonl`` and ``unanswerable.jsonl``; a corpus folder's
``questions.jsonl`` (with ``key_facts``) and ``unanswerable.jsonl``. None of them is trained on:
they are written differently from the documents, as users write. Printed and written to
``bench/results/learn-<corpus>-cpu.json``: pairs, facts, coverage, the mix of examples, wall time
per stage, answer NLL, fact accuracy (base vs tuned, closed and open), retrieval recall@k,
declined unanswerable questions.
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.documents import create_sample_project, ingest_and_chunk  # noqa: E402
from builder.eval_report import verdict  # noqa: E402
from builder.evaluate import evaluate_run  # noqa: E402
from builder.pairs import generate_pairs  # noqa: E402
from builder.project import new_project  # noqa: E402
from builder.runs import Run, load_engine, newest_trained_run  # noqa: E402
from builder.storage import read_jsonl  # noqa: E402
from builder.train import run_training  # noqa: E402

QUESTION_FILES = ("heldout.jsonl", "questions.jsonl", "unanswerable.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a folder of documents with questions.jsonl (default: the sample)")
    parser.add_argument("--preset", choices=["quick", "balanced", "thorough"], help="default: the project's")
    parser.add_argument("--keep", type=Path, help="build the project here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dab-learn-")) / "project"
    result = run_pipeline(args.corpus, folder, args.preset)
    name = args.corpus.name if args.corpus else "sample"
    out = ROOT / "bench" / "results" / f"learn-{name}-cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
    if not args.keep:
        shutil.rmtree(folder.parent, ignore_errors=True)


def run_pipeline(corpus: Path | None, folder: Path, preset: str | None) -> dict:
    """Every stage of the default pipeline, timed; returns the figures."""
    seconds, started = {}, time.perf_counter()
    project, references, unanswerable = make_project(corpus, folder)
    seconds["ingest"] = lap(started)
    summary = generate_pairs(project)
    seconds["pairs"] = lap(started, seconds)
    project_cfg = project.load_config()
    if preset:
        project_cfg.train.preset = preset
    run_training(project, project_cfg=project_cfg)
    seconds["train"] = lap(started, seconds)
    run = newest_trained_run(project)
    report = evaluate_run(load_engine(run, project_cfg), project, project_cfg, run, references,
                          unanswerable=unanswerable)
    seconds["evaluate"] = lap(started, seconds)
    return figures(project, run, summary, report, seconds, project_cfg.train.preset)


def make_project(corpus: Path | None, folder: Path):
    """The sample project (its own question sets are used by evaluation), or a new project of a corpus."""
    if corpus is None:
        return create_sample_project(folder), None, None
    project = new_project(folder)
    documents = sorted(p for p in corpus.iterdir() if p.is_file() and p.suffix != ".jsonl" and p.name != "README.md")
    ingest_and_chunk(project, documents)
    questions = [corpus / name for name in QUESTION_FILES[1:]]
    return project, *(read_jsonl(path) if path.is_file() else None for path in questions)


def lap(started: float, done: dict | None = None) -> float:
    """Seconds since ``started`` minus the stages already counted."""
    return round(time.perf_counter() - started - sum((done or {}).values()), 1)


def figures(project, run: Run, summary: dict, report: dict, seconds: dict, preset: str) -> dict:
    """What the benchmark prints and saves."""
    data, line = run.data_record(), report["headline"]
    recall = report["results"].get("recall", {})
    result = {"preset": preset, "pairs": summary["pairs"], "coverage": summary["coverage"],
              "facts": data.get("facts"), "examples": data.get("examples"), "epochs": run.config().train.epochs,
              "train_tokens": data.get("train_tokens"), "seconds": seconds, "total_s": round(sum(seconds.values()), 1),
              "headline": line, "verdict": verdict(report),
              "answer_nll": {m: recall.get("closed", {}).get(m, {}).get("answer_nll") for m in ("base", "tuned")},
              "results": report["results"], "sets": report["sets"], "best_step": run.status().get("best_step"),
              "recall_check": run.status().get("recall")}
    print_result(result)
    return result


def print_result(result: dict) -> None:
    line = result["headline"]
    nll = result["answer_nll"]
    print(f"pairs {result['pairs']}, coverage {result['coverage']:.1%}, facts {result['facts']}, "
          f"examples {result['examples']}, preset {result['preset']} ({result['epochs']} passes)")
    print(f"seconds: {result['seconds']} (total {result['total_s']})")
    if nll["base"] and nll["tuned"]:
        print(f"answer NLL: base {nll['base']}, tuned {nll['tuned']} ({1 - nll['tuned'] / nll['base']:.0%} lower)")
    print(f"fact accuracy on {line.get('questions')} {line.get('set')} questions: "
          f"closed-book base {line.get('base_closed')} tuned {line.get('tuned_closed')}; "
          f"open-book base {line.get('base_open')} tuned {line.get('tuned_open')}; "
          f"retrieval recall@k {line.get('retrieval_recall')}; tuned declines unanswerable {line.get('tuned_declines')}")
    print(result["verdict"])


if __name__ == "__main__":
    main()
