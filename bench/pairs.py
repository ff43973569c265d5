"""Benchmark the documents -> pairs path; prints numbers and writes bench/results/pairs.json.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/pairs.py                 # both parts
    HF_HUB_OFFLINE=1 .venv/bin/python bench/pairs.py --skip-teacher  # ingest/chunk/rules only

1. Ingest + chunk + rules over the sample corpus replicated to about 200 pages (each copy made
   distinct, so nothing is deduplicated away at ingest): pages/s, pairs/s and total seconds
   (target: under 30 s on a 2-core CPU). Named baseline for the chunking step: langchain's
   token-length splitter (``from_huggingface_tokenizer``, one tokenizer call per candidate
   split) on the same extracted text, against our char-sized split + one batched token count.
2. Teacher generation with the bundled model on CPU, same chunks, same settings: batched
   (``batch_size`` chunks per ``generate``) vs one chunk at a time (baseline). Pairs/min and
   the ratio (target >= 3x).
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


def bench_teacher(n_chunks: int, batch_size: int, max_new_tokens: int) -> dict:
    from builder.pairs.local import generate_local, load_teacher

    tokenizer = load_tokenizer("bundled")
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.create(Path(tmp) / "p")
        ingest_paths(project, sample_documents())
        chunks = chunk_project(project, tokenizer, ChunkConfig(chunk_tokens=128, overlap_tokens=16))
    chunks = sorted(chunks, key=lambda c: c.id)[:n_chunks]
    load_teacher("bundled")
    runs = {}
    for label, size in (("batched", batch_size), ("one_at_a_time", 1)):
        cfg = PairsConfig(generator="local", teacher_model="bundled", template="qa_short", batch_size=size,
                          max_retries=0, max_new_tokens=max_new_tokens, chunk_time_limit_s=600,
                          max_pairs_per_chunk=3)
        started = time.perf_counter()
        results = generate_local(chunks, cfg)
        seconds = time.perf_counter() - started
        pairs = sum(len(r.candidates) for r in results)
        runs[label] = {"batch_size": size, "seconds": round(seconds, 1), "pairs": pairs,
                       "chunks_failed": sum(r.error is not None for r in results),
                       "pairs_per_min": round(pairs / seconds * 60, 2),
                       "chunks_per_min": round(len(chunks) / seconds * 60, 2)}
        print(label, runs[label], flush=True)
    return {"chunks": len(chunks), "max_new_tokens": max_new_tokens, **runs,
            "speedup_chunks_per_min": round(runs["batched"]["chunks_per_min"] / runs["one_at_a_time"]["chunks_per_min"], 2),
            "speedup_pairs_per_min": round(runs["batched"]["pairs_per_min"] / max(runs["one_at_a_time"]["pairs_per_min"], 1e-9), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="sample corpus copies (10 = about 200 pages)")
    parser.add_argument("--skip-teacher", action="store_true")
    parser.add_argument("--teacher-chunks", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16, help="as PairsConfig.batch_size")
    parser.add_argument("--max-new-tokens", type=int, default=96)
    args = parser.parse_args()
    results = {"rules": bench_rules(args.copies)}
    print("rules", json.dumps(results["rules"]), flush=True)
    if not args.skip_teacher:
        results["teacher"] = bench_teacher(args.teacher_chunks, args.batch_size, args.max_new_tokens)
        print("teacher", json.dumps(results["teacher"]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
