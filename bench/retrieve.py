"""Benchmark retrieval; prints tables and writes bench/results/retrieve-cpu.json.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/retrieve.py            # speed and recall
    HF_HUB_OFFLINE=1 .venv/bin/python bench/retrieve.py --chunks 2000 --skip-variants

1. Speed on 10,000 chunks made from the sample corpus's sentences (each chunk 3-8 sentences drawn
   at random, with their numbers changed, so the vocabulary keeps growing as in a real corpus):
   index build time (read chunks.jsonl, index, save), reload time from disk, and query latency
   p50/p95 through ``search`` (questions of the held-out set, sentences of the corpus, and
   100,000-character questions): BM25 fused with embeddings, as chat searches. Embedding 10,000
   chunks takes minutes on a 2-core CPU, so the first ``EMBEDDED_CHUNKS`` are embedded (their
   rate is reported) and their vectors repeated for the rest: a query's cost does not depend on
   the vectors' values. Named baseline, same run, same terms: ``rank_bm25.BM25Okapi`` (the plain
   Python BM25 package), build and query (scores + top k). Target: query p95 < 20 ms.
2. Recall@1/3/5 on the sample's 33 held-out questions (``retrieve.recall_at_k``: a hit is a
   passage from the question's source file holding at least 2/3 of the reference answer's numbers
   and half of its other terms), for the shipped settings and for variants: no stemming, chunk
   text only (no document title or headings), bm25s' short stopword list, other chunk sizes.
   Target: recall@3 >= 0.90. "right document" counts a passage from the source file alone.
"""

import argparse
import dataclasses
import json
import random
import re
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder import retrieve  # noqa: E402
from builder.chunking import chunk_project  # noqa: E402
from builder.config import ChunkConfig  # noqa: E402
from builder.models import load_tokenizer  # noqa: E402
from builder.project import Project  # noqa: E402
from builder.records import Chunk, Source  # noqa: E402
from builder.storage import write_json  # noqa: E402
from builder.documents import create_sample_project  # noqa: E402
from builder.templates import sample_heldout  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "retrieve-cpu.json"
K = 5
EMBEDDED_CHUNKS = 256


def percentile_ms(seconds: list[float], q: float) -> float:
    ordered = sorted(seconds)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


# --- speed -----------------------------------------------------------------------------------
def sentences(project: Project) -> list[str]:
    return [s for c in project.chunks() for s in re.split(r"(?<=[.!?])\s+", c.text) if len(s) > 20]


def synthetic_project(root: Path, pool: list[str], headings: list[list[str]], n_chunks: int) -> Project:
    """A project of ``n_chunks`` chunks in 100-chunk documents, written as chunks.jsonl rows."""
    rng = random.Random(0)
    project = Project.create(root)

    def vary(sentence: str) -> str:
        return re.sub(r"\d", lambda _: str(rng.randrange(10)), sentence)

    rows = [Chunk(id=f"c{i:06d}", source_id=f"s{i // 100:04d}", heading_path=rng.choice(headings),
                  text=" ".join(vary(rng.choice(pool)) for _ in range(rng.randint(3, 8))), tokens=0)
            for i in range(n_chunks)]
    project.save_sources([Source(id=f"s{d:04d}", original_name=f"document-{d:04d}.md", stored_name="", bytes=0,
                                 sha256="") for d in range((n_chunks + 99) // 100)])
    project.save_chunks(rows)
    return project


def timed(fn, *args) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - started, value


def speed_queries(pool: list[str]) -> dict[str, list[str]]:
    rng = random.Random(1)
    questions = [item["question"] for item in sample_heldout()]
    return {"held-out questions": questions * 6, "corpus sentences": rng.sample(pool, 200),
            "100k-char questions": [" ".join(rng.choices(pool, k=900))[:100_000] for _ in range(20)]}


def repeated_vectors(passages, known=None):
    """The first ``EMBEDDED_CHUNKS`` passages embedded, their vectors repeated for all (see above)."""
    import numpy as np

    first = retrieve.embed_texts([retrieve.indexed_text(p) for p in passages[:EMBEDDED_CHUNKS]])
    return np.resize(first, (len(passages), first.shape[1]))


def bench_ours(project: Project, queries: dict[str, list[str]]) -> dict:
    retrieve.forget_indexes()
    with mock.patch.object(retrieve, "passage_vectors", repeated_vectors):
        build_s, index = timed(retrieve.project_index, project)
    retrieve.forget_indexes()
    load_s, _ = timed(retrieve.project_index, project)
    index_s, _ = timed(retrieve.build_bm25, index.passages)
    embed_s, _ = timed(repeated_vectors, index.passages[:EMBEDDED_CHUNKS])
    result = {"build_s": round(build_s, 2), "index_only_s": round(index_s, 2), "reload_s": round(load_s, 3),
              "embedded_chunks_per_s": round(EMBEDDED_CHUNKS / embed_s, 1)}
    words = dataclasses.replace(index, vectors=None)
    for label, asked in queries.items():
        latencies = [timed(retrieve.search, project, q, K)[0] for q in asked]
        bm25_only = [timed(words.search, q, K)[0] for q in asked]
        result[label] = {"queries": len(asked), "p50_ms": percentile_ms(latencies, 0.5),
                         "p95_ms": percentile_ms(latencies, 0.95), "bm25_alone_p50_ms": percentile_ms(bm25_only, 0.5),
                         "bm25_alone_p95_ms": percentile_ms(bm25_only, 0.95)}
    return result


def bench_rank_bm25(project: Project, queries: dict[str, list[str]]) -> dict:
    import numpy as np
    from rank_bm25 import BM25Okapi

    passages = retrieve.project_passages(project)
    started = time.perf_counter()
    bm25 = BM25Okapi([retrieve.terms(retrieve.indexed_text(p)) for p in passages])
    result = {"build_s": round(time.perf_counter() - started, 2)}

    def ask(question: str) -> list[int]:
        scores = bm25.get_scores(list(dict.fromkeys(retrieve.terms(retrieve.text_end(question, retrieve.MAX_QUESTION_CHARS)))))
        best = np.argpartition(-scores, K)[:K]
        return best[np.argsort(-scores[best])].tolist()

    for label, asked in queries.items():
        latencies = [timed(ask, q)[0] for q in asked]
        result[label] = {"queries": len(asked), "p50_ms": percentile_ms(latencies, 0.5),
                         "p95_ms": percentile_ms(latencies, 0.95)}
    return result


def bench_speed(sample: Project, n_chunks: int, work: Path) -> dict:
    pool = sentences(sample)
    headings = [c.heading_path for c in sample.chunks()]
    project = synthetic_project(work / "speed", pool, headings, n_chunks)
    queries = speed_queries(pool)
    ours, baseline = bench_ours(project, queries), bench_rank_bm25(project, queries)
    return {"chunks": n_chunks, "sentences": len(pool), "ours": ours, "rank_bm25": baseline,
            "query_speedup_p50": {label: round(baseline[label]["p50_ms"] / max(ours[label]["p50_ms"], 1e-3), 1)
                                  for label in queries},
            "build_speedup": round(baseline["build_s"] / max(ours["index_only_s"], 1e-3), 1)}


# --- recall ----------------------------------------------------------------------------------
def unstemmed_terms(text: str) -> list[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    stopwords = STOPWORDS_EN_PLUS + retrieve.QUESTION_WORDS
    return [w for w in re.findall(r"(?u)\b\w\w+\b", text.lower()) if w not in stopwords]


def short_stoplist_terms(text: str) -> list[str]:
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    words = [w for w in re.findall(r"(?u)\b\w\w+\b", text.lower()) if w not in STOPWORDS_EN]
    return Stemmer.Stemmer("english").stemWords(words)


VARIANTS = {  # label: patches of builder.retrieve (searching only; hits are judged with the shipped terms)
    "shipped (BM25 + embeddings)": {},
    "BM25 alone (no embeddings)": {"passage_vectors": lambda passages, known=None: None},
    "no stemming": {"terms": unstemmed_terms},
    "chunk text only": {"indexed_text": lambda passage: passage.text},
    "bm25s short stopword list (33 words)": {"terms": short_stoplist_terms},
}


@contextmanager
def variant(project: Project, patches: dict):
    retrieve.forget_indexes()
    shutil.rmtree(project.root / retrieve.INDEX_DIR, ignore_errors=True)
    with ExitStack() as stack:
        for name, value in patches.items():
            stack.enter_context(mock.patch.object(retrieve, name, value))
        yield
    retrieve.forget_indexes()
    shutil.rmtree(project.root / retrieve.INDEX_DIR, ignore_errors=True)


def recall(project: Project, patches: dict) -> dict:
    items = sample_heldout()
    with variant(project, patches):
        results = [retrieve.search(project, item["question"], K) for item in items]
    strict = retrieve.recall_at_k(results, items, (1, 3, 5))
    document = {k: round(sum(any(p.document == item["source"] for p in found[:k]) for found, item in zip(results, items))
                         / len(items), 4) for k in (1, 3, 5)}
    return {"chunks": len(project.chunks()), "recall": strict, "right_document": document}


def bench_recall(sample: Project, work: Path, chunk_sizes: list[int], variants: bool) -> dict:
    rows = {label: recall(sample, patches) for label, patches in VARIANTS.items() if variants or not patches}
    tokenizer = load_tokenizer(sample.load_config().train.base_model) if chunk_sizes else None
    for size in chunk_sizes:
        copy = Project(shutil.copytree(sample.root, work / f"chunks-{size}"))
        chunk_project(copy, tokenizer, ChunkConfig(chunk_tokens=size, overlap_tokens=min(48, size // 4)))
        rows[f"chunk_tokens={size}"] = recall(copy, {})
    return rows


def print_tables(results: dict) -> None:
    speed = results.get("speed")
    if speed:
        print(f"\nspeed on {speed['chunks']} chunks (k={K})")
        print(f"{'':22s} {'ours (BM25 + embeddings)':>24s} {'rank_bm25':>24s}")
        print(f"{'build s':22s} {speed['ours']['build_s']:>11} (index {speed['ours']['index_only_s']:>5})"
              f" {speed['rank_bm25']['build_s']:>24}")
        print(f"{'reload s':22s} {speed['ours']['reload_s']:>24} {'-':>24}")
        print(f"{'embedded chunks/s':22s} {speed['ours']['embedded_chunks_per_s']:>24} {'-':>24}")
        for label in ("held-out questions", "corpus sentences", "100k-char questions"):
            ours, base = speed["ours"][label], speed["rank_bm25"][label]
            print(f"{label + ' p50/p95 ms':22s} {ours['p50_ms']:>14} / {ours['p95_ms']:<7} {base['p50_ms']:>14} / {base['p95_ms']}"
                  f"   (BM25 alone {ours['bm25_alone_p50_ms']} / {ours['bm25_alone_p95_ms']})")
    print(f"\nrecall on {len(sample_heldout())} held-out questions: passage with the answer (right document)")
    for label, row in results["recall"].items():
        cells = "  ".join(f"@{k} {row['recall'][k]:.2f} ({row['right_document'][k]:.2f})" for k in (1, 3, 5))
        print(f"{label:38s} {row['chunks']:>4} chunks  {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000, help="chunks in the speed test")
    parser.add_argument("--chunk-sizes", type=int, nargs="*", default=[192, 256, 512],
                        help="other ChunkConfig.chunk_tokens to measure recall with (default 384 is 'shipped')")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-variants", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sample = create_sample_project(work / "sample")
        results = {} if args.skip_speed else {"speed": bench_speed(sample, args.chunks, work)}
        results["recall"] = bench_recall(sample, work, [] if args.skip_variants else args.chunk_sizes,
                                         not args.skip_variants)
    print_tables(results)
    write_json(RESULTS, results)
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
