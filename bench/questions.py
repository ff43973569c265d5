"""Measure the offline question generator without training; prints before/after, writes bench/results/questions.json.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/questions.py        # sample corpus + tests/corpora/larchfield-clinic
    HF_HUB_OFFLINE=1 .venv/bin/python bench/questions.py --corpus DIR --questions DIR/questions.jsonl

For each corpus (a folder of documents and a jsonl of hand-written user questions with reference
answers) it ingests and chunks the documents (builder's ingest + chunking, bundled tokenizer)
and runs two generators over the same chunks, in the same run:

- before: the ``rules`` generator as it was at commit ``BASELINE_COMMIT`` (loaded from git),
  with today's pipeline cap of ``max_pairs_per_chunk`` pairs per chunk;
- after: the current ``rules`` generator (at most ``MAX_QUESTIONS`` per fact, no chunk cap).

Both keep only pairs that pass the pipeline's validation (``rejection_reason``). Reported:
pairs, informative statements, coverage (informative statements stated by some answer), pairs
per covered fact, the question-match proxy (for each user question, the generated question most
similar to it by BM25: does its answer hold all of the reference answer's key facts?), and the
share of reference key facts present in any generated answer. The proxy says whether generated
questions read like users' questions; it is no substitute for training and asking the model.
"""

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.chunking import chunk_project  # noqa: E402
from builder.config import ChunkConfig, PairsConfig  # noqa: E402
from builder.facts import answer_key_facts, coverage, missing_facts  # noqa: E402
from builder.facts import split_statements  # noqa: E402
from builder.ingest import ingest_paths  # noqa: E402
from builder.models import load_tokenizer  # noqa: E402
from builder.pairs.base import GENERATORS, new_pair  # noqa: E402
from builder.pairs.validate import rejection_reason  # noqa: E402
from builder.project import Project  # noqa: E402
from builder.records import Chunk  # noqa: E402
from builder.storage import read_jsonl  # noqa: E402

BASELINE_COMMIT = "ec546ad"
RESULTS = ROOT / "bench" / "results" / "questions.json"
CORPORA = [(ROOT / "templates" / "samples", ROOT / "templates" / "samples" / "heldout.jsonl"),
           (ROOT / "tests" / "corpora" / "larchfield-clinic", ROOT / "tests" / "corpora" / "larchfield-clinic" /
            "questions.jsonl")]


def baseline_generator():
    """The rules generator at ``BASELINE_COMMIT``, without replacing the registered one."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{BASELINE_COMMIT}:builder/pairs/rules.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_rules.py"
    path.write_text(source, encoding="utf-8")
    current = GENERATORS["rules"]
    spec = importlib.util.spec_from_file_location("builder.pairs._baseline_rules", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    baseline, GENERATORS["rules"] = GENERATORS["rules"], current
    return baseline


def load_chunks(folder: Path, tokenizer) -> list[Chunk]:
    documents = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".jsonl" and p.name != "README.md")
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "project")
        ingest_paths(project, documents)
        return chunk_project(project, tokenizer, ChunkConfig())


def kept_pairs(generator, chunks: list[Chunk], cfg: PairsConfig, chunk_cap: int | None) -> tuple[list[dict], float]:
    started = time.perf_counter()
    rows = chunks if generator is GENERATORS["rules"] else [c.to_dict() for c in chunks]  # the baseline reads dicts
    results = generator(rows, cfg, None)
    seconds = time.perf_counter() - started
    pairs = []
    for chunk, result in zip(chunks, results):
        for n, candidate in enumerate(result.candidates):
            pair = new_pair(candidate.question, candidate.answer, cfg.generator, chunk, candidate.evidence).to_dict()
            over = chunk_cap is not None and n >= chunk_cap
            reason = rejection_reason(pair["question"], pair["answer"], pair["scores"]["grounding"], cfg)
            if not over and reason is None:
                pairs.append({**pair, "fact": getattr(candidate, "fact", None)})
    return pairs, seconds


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def question_match(pairs: list[dict], questions: list[dict]) -> dict:
    """For each user question, the most similar generated question (BM25): does its answer hold
    the reference's key facts? And are the reference's key facts in any generated answer?"""
    from rank_bm25 import BM25Okapi

    index = BM25Okapi([tokens(p["question"]) for p in pairs])
    rows, facts_total, facts_anywhere = [], 0, 0
    answers = "\n".join(p["answer"] for p in pairs)
    for item in questions:
        facts = answer_key_facts(item["answer"], item["question"])
        scores = index.get_scores(tokens(item["question"]))
        best = pairs[max(range(len(pairs)), key=lambda i: scores[i])]
        missing = missing_facts(facts, best["answer"])
        facts_total += len(facts)
        facts_anywhere += len(facts) - len(missing_facts(facts, answers))
        rows.append({"question": item["question"], "matched": best["question"], "facts": [f.text for f in facts],
                     "missing": [f.text for f in missing], "hit": bool(facts) and not missing})
    with_facts = [r for r in rows if r["facts"]]
    return {"questions": len(rows), "with_key_facts": len(with_facts),
            "match_all_facts": round(sum(r["hit"] for r in with_facts) / max(1, len(with_facts)), 3),
            "match_fact_recall": round(sum(1 - len(r["missing"]) / len(r["facts"]) for r in with_facts)
                                       / max(1, len(with_facts)), 3),
            "reference_facts_in_any_answer": round(facts_anywhere / max(1, facts_total), 3), "rows": rows}


def measure(name: str, generator, chunks: list[Chunk], questions: list[dict], chunk_cap: int | None) -> dict:
    cfg = PairsConfig()
    pairs, seconds = kept_pairs(generator, chunks, cfg, chunk_cap)
    statements = [s for c in chunks for s in split_statements(c.text, c.heading_path)]
    report = coverage(statements, [p["answer"] for p in pairs])
    covered_facts = {p["fact"] for p in pairs if p.get("fact")}
    match = question_match(pairs, questions)
    return {"generator": name, "chunks": len(chunks), "pairs": len(pairs), "seconds": round(seconds, 2),
            "informative_statements": report.informative, "covered": report.covered,
            "coverage": round(report.ratio, 3), "pairs_per_fact": round(len(pairs) / max(1, report.covered), 2),
            "facts_with_3_or_more": sum(1 for f in covered_facts if sum(p["fact"] == f for p in pairs) >= 3),
            "uncovered_examples": [s.text for s in report.uncovered[:8]], **match}


def print_table(corpus: str, runs: list[dict]) -> None:
    keys = ["pairs", "informative_statements", "covered", "coverage", "pairs_per_fact", "match_all_facts",
            "match_fact_recall", "reference_facts_in_any_answer", "seconds"]
    print(f"\n== {corpus}: {runs[0]['chunks']} chunks, {runs[0]['questions']} user questions "
          f"({runs[0]['with_key_facts']} with key facts)")
    print(f"{'':32}" + "".join(f"{r['generator']:>12}" for r in runs))
    for key in keys:
        print(f"{key:32}" + "".join(f"{r[key]:>12}" for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a folder of documents (default: the two built-in corpora)")
    parser.add_argument("--questions", type=Path, help="its jsonl of {question, answer}")
    parser.add_argument("--show", type=int, default=0, help="print this many matched questions per corpus")
    args = parser.parse_args()
    corpora = [(args.corpus, args.questions)] if args.corpus else CORPORA
    tokenizer = load_tokenizer("bundled")
    before, after = baseline_generator(), GENERATORS["rules"]
    results = {}
    for folder, questions_file in corpora:
        chunks, questions = load_chunks(folder, tokenizer), read_jsonl(questions_file)
        runs = [measure("before", before, chunks, questions, PairsConfig().max_pairs_per_chunk),
                measure("after", after, chunks, questions, None)]
        print_table(folder.name, runs)
        for row in runs[1]["rows"][:args.show]:
            print(f"  {'HIT ' if row['hit'] else 'MISS'} {row['question']}\n       -> {row['matched']}  "
                  f"missing {row['missing']}")
        results[folder.name] = {r["generator"]: r for r in runs}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"baseline_commit": BASELINE_COMMIT, "corpora": results}, indent=2,
                                  ensure_ascii=False) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
