"""Benchmark the documents -> pairs path; prints numbers and writes bench/results/pairs.json.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/pairs.py                 # both parts
    HF_HUB_OFFLINE=1 .venv/bin/python bench/pairs.py --skip-teacher  # ingest/chunk/rules only
    HF_HUB_OFFLINE=1 .venv/bin/python bench/pairs.py --teacher-chunks 8 --threads 1   # a busy 2-core CPU

1. Ingest + chunk + rules over the sample corpus replicated to about 200 pages (each copy made
   distinct, so nothing is deduplicated away at ingest): pages/s, pairs/s and total seconds
   (target: under 30 s on a 2-core CPU). Named baseline for the chunking step: langchain's
   token-length splitter (``from_huggingface_tokenizer``, one tokenizer call per candidate
   split) on the same extracted text, against our char-sized split + one batched token count.
2. Teacher generation with the bundled model on CPU, same chunks, same settings, one process:
   constrained JSON decoding (llguidance, every token checked against the pair-list schema) vs
   the baseline, the template's response prefix + JSON repair. Pairs per passage (parsed, and
   valid under the pipeline's checks), pairs/min, wall and CPU seconds, and the ratios. With
   ``--one-at-a-time`` also the unbatched baseline for batching (``batch_size`` chunks per
   ``generate`` vs one; target >= 3x).
"""

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.chunking import chunk_project, split_sections  # noqa: E402
from builder.config import ChunkConfig, PairsConfig  # noqa: E402
from builder.ingest import ingest_paths  # noqa: E402
from builder.models import load_tokenizer  # noqa: E402
from builder.pairs import generate_pairs  # noqa: E402
from builder.project import Project  # noqa: E402
from builder.templates import sample_documents  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "pairs.json"


def distinct_copy(path: Path, n: int) -> bytes:
    """The bytes of a sample document, changed just enough to be a different document."""
    data = path.read_bytes()
    if path.suffix == ".docx":
        import docx

        document = docx.Document(io.BytesIO(data))
        document.add_paragraph(f"Copy {n}.")
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
    if path.suffix == ".pdf":
        return data + f"\n% copy {n}\n".encode()
    return data + f"\n\nCopy {n}.\n".encode()


def replicate_corpus(folder: Path, copies: int) -> Path:
    for n in range(copies):
        for path in sample_documents():
            (folder / f"{path.stem}-{n}{path.suffix}").write_bytes(distinct_copy(path, n))
    return folder


def bench_rules(copies: int) -> dict:
    tokenizer = load_tokenizer("bundled")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        replicate_corpus(corpus, copies)
        project = Project.create(Path(tmp) / "project")
        t0 = time.perf_counter()
        reports = ingest_paths(project, [corpus])
        t1 = time.perf_counter()
        chunks = chunk_project(project, tokenizer, ChunkConfig())
        t2 = time.perf_counter()
        summary = generate_pairs(project, PairsConfig())
        t3 = time.perf_counter()
        baseline_s = baseline_chunking(project, tokenizer, ChunkConfig())
    pages = sum(r["pages"] for r in reports if r["status"] == "ok")
    total_s = t3 - t0
    return {"documents": len(reports), "failed": sum(r["status"] == "error" for r in reports), "pages": pages,
            "chunks": len(chunks), "candidates": summary["totals"]["candidates"], "pairs": summary["pairs"],
            "ingest_s": round(t1 - t0, 2), "chunk_s": round(t2 - t1, 2), "rules_s": round(t3 - t2, 2),
            "total_s": round(total_s, 2), "pages_per_s": round(pages / total_s, 1),
            "pairs_per_s": round(summary["pairs"] / total_s, 1),
            "candidates_per_s": round(summary["totals"]["candidates"] / total_s, 1),
            "baseline_langchain_token_chunking_s": round(baseline_s, 2),
            "chunking_speedup_vs_baseline": round(baseline_s / (t2 - t1), 1)}


def baseline_chunking(project: Project, tokenizer, cfg: ChunkConfig) -> float:
    """Seconds for langchain's token-length splitter over the same sections (the named baseline)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        tokenizer, chunk_size=cfg.chunk_tokens, chunk_overlap=cfg.overlap_tokens)
    started = time.perf_counter()
    for source in project.sources():
        text = (project.extracted_dir / f"{source.id}.md").read_text(encoding="utf-8")
        for _, body in split_sections(text):
            splitter.split_text(body)
    return time.perf_counter() - started


def bench_teacher(n_chunks: int, batch_size: int, max_new_tokens: int, one_at_a_time: bool) -> dict:
    """The bundled teacher on the same chunks, in one process: constrained JSON decoding vs the
    response prefix + repair (both batched), and optionally one chunk at a time (batching baseline)."""
    from builder.pairs.local import generate_local, load_teacher

    tokenizer = load_tokenizer("bundled")
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "p")
        ingest_paths(project, sample_documents())
        chunks = chunk_project(project, tokenizer, ChunkConfig(chunk_tokens=128, overlap_tokens=16))
    chunks = sorted(chunks, key=lambda c: c.id)[:n_chunks]
    load_teacher("bundled")
    runs = {}
    plans = [("constrained", batch_size, True), ("repaired", batch_size, False)]
    for label, size, constrained in plans + ([("one_at_a_time", 1, False)] if one_at_a_time else []):
        cfg = PairsConfig(generator="local", teacher_model="bundled", template="qa_short", batch_size=size,
                          max_retries=0, max_new_tokens=max_new_tokens, chunk_time_limit_s=3600,
                          max_pairs_per_chunk=3, constrained_json=constrained)
        runs[label] = teacher_run(generate_local, chunks, cfg)
        print(label, runs[label], flush=True)
    ratios = {"constrained_vs_repaired_pairs_per_min": ratio(runs, "constrained", "repaired", "pairs_per_min"),
              "constrained_vs_repaired_valid_pairs_per_passage":
                  ratio(runs, "constrained", "repaired", "valid_pairs_per_passage")}
    if one_at_a_time:
        ratios["batched_vs_one_at_a_time_chunks_per_min"] = ratio(runs, "repaired", "one_at_a_time", "chunks_per_min")
    return {"chunks": len(chunks), "max_new_tokens": max_new_tokens, **runs, **ratios}


def teacher_run(generate, chunks, cfg: PairsConfig) -> dict:
    """Pairs, pairs that pass the pipeline's checks, replies without a pair, wall and CPU seconds."""
    from builder.errors import GeneratorError
    from builder.pairs import new_pair
    from builder.pairs.validate import rejection_reason

    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        results = generate(chunks, cfg)
    except GeneratorError:  # not one chunk gave a pair
        results = []
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    candidates = [(chunk, c) for chunk, r in zip(chunks, results) for c in r.candidates]
    valid = [p for p in (new_pair(c.question, c.answer, "local", chunk, c.evidence) for chunk, c in candidates)
             if rejection_reason(p.question, p.answer, p.scores["grounding"], cfg) is None]
    return {"batch_size": cfg.batch_size, "seconds": round(seconds, 1), "cpu_seconds": round(cpu_s, 1),
            "pairs": len(candidates), "valid_pairs": len(valid),
            "passages_without_pair": len(chunks) - sum(bool(r.candidates) for r in results),
            "pairs_per_passage": round(len(candidates) / len(chunks), 2),
            "valid_pairs_per_passage": round(len(valid) / len(chunks), 2),
            "pairs_per_min": round(len(candidates) / seconds * 60, 2),
            "valid_pairs_per_min": round(len(valid) / seconds * 60, 2),
            "chunks_per_min": round(len(chunks) / seconds * 60, 2)}


def ratio(runs: dict, a: str, b: str, key: str) -> float | None:
    return round(runs[a][key] / runs[b][key], 2) if runs[b][key] else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="sample corpus copies (10 = about 200 pages)")
    parser.add_argument("--skip-teacher", action="store_true")
    parser.add_argument("--teacher-chunks", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16, help="as PairsConfig.batch_size")
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--one-at-a-time", action="store_true", help="also run the unbatched baseline (slow)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    results = {"rules": bench_rules(args.copies)}
    print("rules", json.dumps(results["rules"]), flush=True)
    if not args.skip_teacher:
        results["teacher"] = bench_teacher(args.teacher_chunks, args.batch_size, args.max_new_tokens, args.one_at_a_time)
        print("teacher", json.dumps(results["teacher"]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
