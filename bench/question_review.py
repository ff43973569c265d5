"""A blind review of the offline question generator: which questions a change replaced, and are the new ones better?

    HF_HUB_OFFLINE=1 .venv/bin/python bench/question_review.py make --baseline 53fd865
    # a reviewer labels every item of bench/results/question-review-items.txt as good / awkward / broken,
    # one "<number>\t<label>" line per item, in a file of their own
    HF_HUB_OFFLINE=1 .venv/bin/python bench/question_review.py score LABELS.tsv

``make`` makes the default pairs (``rules``, as ``dab pairs`` keeps them) with the working tree
and with ``--baseline`` (its ``builder`` package taken from git into a temporary folder, run in a
subprocess) on the same documents: by
default three corpora the generator was not written for (the sample corpus and the two judging
corpora in ``bench/corpora``). It keeps the questions only one of the two asks, shuffles them
together with their answers, and writes them numbered, without saying which version asked them;
the key goes to a separate file. ``score`` prints good / awkward / broken per version and corpus
and writes the review to ``bench/results/question-review.json``.

A reviewer's labels are a judgement, not a measurement of the model: this says whether the
questions users review (and the model trains on) read as a person would ask them.
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ITEMS, KEY = RESULTS / "question-review-items.txt", RESULTS / "question-review-key.json"
CORPORA = [ROOT / "templates" / "samples", ROOT / "bench" / "corpora" / "hollinvale-housing",
           ROOT / "bench" / "corpora" / "tallystack-support"]
LABELS = ("good", "awkward", "broken")
# Run inside the subprocess with ``builder`` from the version under test first on the path.
_GENERATE = """
import json, sys, tempfile
from pathlib import Path
from builder.documents import ingest_and_chunk
from builder.pairs import generate_pairs
from builder.project import Project
folder = Path(sys.argv[1])
documents = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".jsonl" and p.name != "README.md")
with tempfile.TemporaryDirectory() as tmp:
    project = Project.create(Path(tmp) / "project")
    ingest_and_chunk(project, documents)
    generate_pairs(project)
    print(json.dumps({pair.question: pair.answer for pair in project.pairs()}))
"""


def questions(builder_root: Path, corpus: Path) -> dict[str, str]:
    """The default pairs' {question: answer} on ``corpus``, with ``builder`` imported from ``builder_root``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(builder_root)}
    out = subprocess.run([sys.executable, "-c", _GENERATE, str(corpus)], cwd=builder_root, check=True,
                         capture_output=True, text=True, env=env)
    return json.loads(out.stdout.splitlines()[-1])


def baseline_tree(commit: str) -> Path:
    """The ``builder`` package at ``commit``, unpacked into a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="question-review-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "builder"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def make(baseline: str, seed: int) -> None:
    old_root, rows = baseline_tree(baseline), []
    for corpus in CORPORA:
        old, new = questions(old_root, corpus), questions(ROOT, corpus)
        only_old = [("baseline", q, old[q]) for q in old if q not in new]
        only_new = [("current", q, new[q]) for q in new if q not in old]
        print(f"{corpus.name}: {len(old)} questions before, {len(new)} now; "
              f"{len(only_old)} replaced by {len(only_new)}")
        rows += [(corpus.name, *row) for row in only_old + only_new]
    random.Random(seed).shuffle(rows)
    RESULTS.mkdir(exist_ok=True)
    with ITEMS.open("w", encoding="utf-8") as items:
        for number, (_, _, question, answer) in enumerate(rows):
            items.write(f"{number}\tQ: {question}\n\tA: {answer[:90]}\n")
    KEY.write_text(json.dumps({"baseline": baseline, "rows": [[c, v, q] for c, v, q, _ in rows]}, indent=1))
    print(f"{len(rows)} items to label in {ITEMS.relative_to(ROOT)} (key: {KEY.relative_to(ROOT)})")


def score(labels_path: Path) -> None:
    key = json.loads(KEY.read_text())
    labels = dict(line.split("\t") for line in labels_path.read_text().split("\n") if line.strip())
    counts = collections.defaultdict(collections.Counter)
    for number, (corpus, version, _) in enumerate(key["rows"]):
        label = labels[str(number)].strip()
        counts[(corpus, version)][label] += 1
        counts[("all", version)][label] += 1
    table = {f"{corpus} {version}": dict(c) for (corpus, version), c in sorted(counts.items())}
    for name, c in table.items():
        total = sum(c.values())
        print(f"{name:32}" + "".join(f"{label} {c.get(label, 0):4} ({c.get(label, 0) / total:4.0%})  "
                                      for label in LABELS))
    reviewed = [{"corpus": c, "version": v, "question": q, "label": labels[str(n)].strip()}
                for n, (c, v, q) in enumerate(key["rows"])]
    (RESULTS / "question-review.json").write_text(json.dumps({"baseline": key["baseline"], "counts": table,
                                                              "items": reviewed}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    made = steps.add_parser("make", help="write the questions a change replaced, shuffled, for a blind review")
    made.add_argument("--baseline", required=True, help="the commit to compare the working tree's generator with")
    made.add_argument("--seed", type=int, default=23)
    scored = steps.add_parser("score", help="count a reviewer's labels per version and corpus")
    scored.add_argument("labels", type=Path)
    args = parser.parse_args()
    make(args.baseline, args.seed) if args.step == "make" else score(args.labels)


if __name__ == "__main__":
    main()
