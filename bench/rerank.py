"""Does search find the passage that answers: BM25, BM25 + embeddings, re-ranked by the model?
Prints a table and writes bench/results/rerank-cpu.json.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/rerank.py
    HF_HUB_OFFLINE=1 .venv/bin/python bench/rerank.py --corpus bench/corpora/tallystack-support

For the sample corpus (its 33 held-out questions) and each corpus folder with a ``questions.jsonl``
(hand-written questions, written as users ask), the project is ingested and chunked as the wizard
does, then every question is searched three ways, in the same run: BM25 alone (the index
without its embeddings, the baseline), BM25 and embeddings fused (``retrieve.search``, what chat
uses), and the fused search's ``rerank.CANDIDATES`` re-ranked by the bundled model
(``answers.find_passages`` with ``rerank.passage_ranker``). Recall@1/3/5 is
``retrieve.recall_at_k`` (a passage of the question's source file that holds the reference
answer's numbers and half of its other words); time is per question, median and p95.

``--model DIR`` re-ranks with another model folder, e.g. the bundled shape with random weights
on a GPU machine that has no bundled model (``bench/train.py --shape smollm2-135m --save-model
DIR``): its times are real, its recall is not.
"""

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder import retrieve  # noqa: E402
from builder.answers import find_passages  # noqa: E402
from builder.chat import ChatEngine  # noqa: E402
from builder.config import BUNDLED_MODEL, ChatConfig  # noqa: E402
from builder.documents import create_sample_project, ingest_and_chunk  # noqa: E402
from builder.project import new_project  # noqa: E402
from builder.rerank import passage_ranker  # noqa: E402
from builder.storage import read_jsonl  # noqa: E402
from builder.templates import sample_heldout  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [ROOT / "bench" / "corpora" / name for name in ("hollinvale-housing", "tallystack-support")]
KS = (1, 3, 5)


def corpus_project(corpus: Path | None, folder: Path):
    """(project, questions): the sample with its held-out set, or a corpus folder's documents and questions."""
    if corpus is None:
        return create_sample_project(folder), sample_heldout()
    project = new_project(folder)
    ingest_and_chunk(project, sorted(p for p in corpus.iterdir()
                                     if p.is_file() and p.suffix != ".jsonl" and p.name != "README.md"))
    return project, read_jsonl(corpus / "questions.jsonl")


def timed_search(find, questions: list[dict]) -> tuple[list[list], list[float]]:
    """Each question's passages from ``find(question)`` and the seconds each took."""
    results, seconds = [], []
    for item in questions:
        started = time.perf_counter()
        results.append(find(item["question"]))
        seconds.append(time.perf_counter() - started)
    return results, seconds


def measure(name: str, project, questions: list[dict], ranker) -> dict:
    """Recall@k and time per question for BM25 alone, fused with embeddings, and re-ranked."""
    depth = max(KS)
    words = dataclasses.replace(retrieve.project_index(project), vectors=None)
    finders = {"bm25": lambda q: words.search(q, depth), "hybrid": lambda q: retrieve.search(project, q, depth),
               "reranked": lambda q: find_passages(project, [{"role": "user", "content": q}], depth, ranker)}
    row = {"corpus": name, "questions": len(questions)}
    for label, find in finders.items():
        results, seconds = timed_search(find, questions)
        row[label] = {"recall": retrieve.recall_at_k(results, questions, KS),
                      "ms_p50": round(statistics.median(seconds) * 1000, 1),
                      "ms_p95": round(sorted(seconds)[int(0.95 * (len(seconds) - 1))] * 1000, 1)}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append",
                        help="a corpus folder with questions.jsonl (default: the sample and bench/corpora/*)")
    parser.add_argument("--model", default=BUNDLED_MODEL, help="the re-ranking model (default: the bundled one)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "rerank-cpu.json")
    args = parser.parse_args()
    corpora = args.corpus or [None, *CORPORA]
    engine = ChatEngine.load(args.model)
    ranker = passage_ranker(engine, ChatConfig(rerank="on"))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for i, corpus in enumerate(corpora):
            name = "sample" if corpus is None else corpus.name
            project, questions = corpus_project(corpus, Path(work) / str(i))
            rows.append(measure(name, project, questions, ranker))
            print_row(rows[-1])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": args.model, "device": str(engine.model.device), "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")


def print_row(row: dict) -> None:
    for label in ("bm25", "hybrid", "reranked"):
        r = row[label]
        recall = " ".join(f"@{k} {r['recall'][k]:.2f}" for k in KS)
        print(f"{row['corpus']:20s} {label:9s} {recall}   {r['ms_p50']:7.1f} ms p50 {r['ms_p95']:7.1f} ms p95",
              flush=True)


if __name__ == "__main__":
    main()
