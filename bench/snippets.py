"""Does the snippet under an answer show the fact asked about? Prints one line per corpus.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/snippets.py

For the sample's held-out questions and each ``bench/corpora`` folder's hand-written questions,
the passage that states the answer (``retrieve.contains_answer``, of the question's document) is
cut to a source snippet two ways, in the same run: its start (the baseline) and for the question
(``answers.snippet(text, question=...)``: the stretch of its most relevant sentences that holds
most of the question's words). Reported: the share of questions whose snippet itself states the
answer.
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rerank import CORPORA, corpus_project  # noqa: E402
from builder import retrieve  # noqa: E402
from builder.answers import snippet  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        for i, corpus in enumerate([None, *CORPORA]):
            project, questions = corpus_project(corpus, Path(work) / str(i))
            passages = retrieve.project_index(project).passages
            start = focused = asked = 0
            for item in questions:
                stating = [p for p in passages
                           if p.document == item["source"] and retrieve.contains_answer(p.text, item["answer"])]
                if not stating:
                    continue
                asked += 1
                start += retrieve.contains_answer(snippet(stating[0].text), item["answer"])
                focused += retrieve.contains_answer(snippet(stating[0].text, question=item["question"]), item["answer"])
            name = "sample" if corpus is None else corpus.name
            print(f"{name:20s} {asked} questions: snippet states the answer: start {start / asked:.2f}, "
                  f"for the question {focused / asked:.2f}", flush=True)


if __name__ == "__main__":
    main()
