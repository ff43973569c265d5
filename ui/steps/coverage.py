"""The Pairs step's coverage view: pairs per document, what no pair covers yet, and one click to
write a pair for it.

    parts = build()                              # inside the Pairs tab: summary, two tables, the gaps (state)
    values = view(project, pairs, uses)          # their values, for parts["outputs"]
    on_gap(gaps, root, evt)                      # a click on a gap pre-fills the add-a-pair form

Documents and passages are named by file name and heading, never by hash. A gap is a passage
without a pair, or a statement no answer states (``builder.pairs.overview.coverage_gaps``);
clicking it opens "Add a pair of your own" with the passage shown and, when there is one, the
uncovered statement as the answer: the person writes the question, and the pair trains.
"""

from dataclasses import asdict
from pathlib import Path

import gradio as gr
import pandas as pd

from builder.pairs.overview import Gap, PairSource, coverage_gaps, documents_overview
from builder.project import Project
from builder.records import Pair

from .pair_views import keep_on_error, passage_html

DOCUMENT_COLUMNS = ["document", "passages", "passages with pairs", "pairs", "training", "evaluation"]
GAP_COLUMNS = ["document", "heading", "not covered yet", "why"]
MAX_GAPS_SHOWN = 200
NO_PASSAGE = "<p><i>Not tied to a passage.</i></p>"


def summary(cov: dict, documents: list[dict], gaps: list[Gap]) -> str:
    """One paragraph: statements covered, documents with no pair named, what the list below holds."""
    if not documents:
        return "No documents yet."
    line = (f"**Coverage:** {cov['covered']} of {cov['informative']} informative statements "
            f"({cov['ratio']:.0%}) are stated by some answer.")
    empty = [row["document"] for row in documents if row["passages"] and not row["passages_with_pairs"]]
    if empty:
        line += f" ⚠️ **No pair from {', '.join(empty)}.**"
    passages = sum(g.whole_passage for g in gaps)
    statements = len(gaps) - passages
    if statements:
        line += f" Below: {statements} statement(s) no answer states yet; click one to write a pair for it."
    if passages:
        line += (f" {passages} passage(s) gave no pair, each with the reason (often nothing to ask about, such as "
                 "a welcome); click one if it does hold something worth asking.")
    return line


def view(project: Project, pairs: list[Pair], uses: dict[str, str]) -> tuple:
    """(summary, documents table, gaps table, gaps) for ``build``'s outputs."""
    cov, gaps = coverage_gaps(project, pairs)
    documents = documents_overview(project, pairs, uses)
    gaps = gaps[:MAX_GAPS_SHOWN]
    return (summary(cov, documents, gaps),
            pd.DataFrame([[row[key] for key in ("document", "passages", "passages_with_pairs", "pairs", "training",
                                                "evaluation")] for row in documents], columns=DOCUMENT_COLUMNS),
            pd.DataFrame([[g.document, g.heading, g.text, g.why] for g in gaps], columns=GAP_COLUMNS),
            [asdict(g) for g in gaps])


@keep_on_error(5)
def on_gap(gaps: list[dict], root: str, evt: gr.SelectData):
    """Pre-fill the add-a-pair form for the clicked gap: its passage, and its statement as the answer.
    Outputs: question, answer, the passage's chunk id, the form (opened), the passage shown."""
    index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    if not gaps or not 0 <= index < len(gaps):
        raise gr.Error("That row is gone: the table changed since. Click the row again.")
    gap = gaps[index]
    chunk = next((c for c in Project.open(Path(root)).chunks() if c.id == gap["chunk_id"]), None)
    if chunk is None:
        raise gr.Error("That passage is gone (its document was removed): reload the page.")
    shown = passage_html(PairSource(gap["document"], gap["heading"], chunk.text, None))
    return "", gap["statement"], chunk.id, gr.Accordion(open=True), f"<p><b>Writing a pair for this passage.</b></p>{shown}"


def build() -> dict:
    """The coverage accordion; ``outputs`` are what ``view`` fills."""
    with gr.Accordion("Coverage: what your pairs cover, per document", open=True):
        line = gr.Markdown(elem_id="pairs-coverage")
        documents = gr.Dataframe(headers=DOCUMENT_COLUMNS, interactive=False, label="Pairs per document",
                                 elem_id="pairs-documents", max_height=260)
        gaps_table = gr.Dataframe(headers=GAP_COLUMNS, interactive=False, wrap=True, max_height=300,
                                  label="Not covered yet (click a row to write a pair for it)", elem_id="pairs-gaps",
                                  column_widths=["16%", "20%", "44%", "20%"])
    gaps = gr.State([])
    return {"outputs": [line, documents, gaps_table, gaps], "gaps_table": gaps_table, "gaps": gaps}
