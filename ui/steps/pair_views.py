"""The Pairs step's views of single pairs: the review table's rows, the selected pair with its
source passage, and the rule that a failing handler leaves the page as it was.

    rows = table_rows(shown, uses)              # the review table (COLUMNS), one row per pair shown
    edits = review_rows(table, base)            # the table as saved, against what it showed (apply_edits)
    html = pair_html(pair, uses[pair.id], pair_source(project, pair))   # the pair, its evidence highlighted

    @keep_on_error(outputs=4)   # an error: every output stays as it was, the last one says why

Only the question and answer are edited in the table; status and "used for" change through
buttons (``STATIC_COLUMNS``), so no typed value can be wrong. A save from another client that
sends a wrong status is still refused whole, naming the row (``review.apply_edits``).
"""

import functools
from html import escape

import gradio as gr
import pandas as pd

from builder.pairs import ReviewRow
from builder.pairs.overview import PairSource
from builder.records import Pair

from ..errors import to_gr_error

COLUMNS = ["id", "status", "used for", "question", "answer", "grounding", "document"]
STATIC_COLUMNS = [0, 1, 2, 5, 6]  # edited through buttons (status, used for) or not at all
COLUMN_WIDTHS = ["8%", "8%", "8%", "27%", "33%", "6%", "10%"]
DATATYPES = ["str", "str", "str", "str", "str", "number", "str"]
ID, STATUS, QUESTION, ANSWER = 0, 1, 3, 4


def keep_on_error(outputs: int):
    """Decorator for handlers with ``outputs`` outputs, the last a message: an error becomes a
    warning toast and that message, and every other output is left as it was (``gr.skip``), so
    no component turns into an error badge and unsaved edits in the table stay."""
    def wrap(handler):
        @functools.wraps(handler)
        def run(*args, **kwargs):
            try:
                return handler(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001  (shown to the user; unexpected ones are logged in full)
                message = exc.message if isinstance(exc, gr.Error) else to_gr_error(exc).message
            gr.Warning(message)
            return (*[gr.skip()] * (outputs - 1), f"❌ {message}")
        return run
    return wrap


def table_rows(shown: list[tuple[Pair, str]], uses: dict[str, str]) -> list[list]:
    """One row per (pair, document name), in ``COLUMNS`` order."""
    return [[p.id, p.status, uses.get(p.id, ""), p.question, p.answer, p.scores.get("grounding") or 0, document]
            for p, document in shown]


def table_values(table) -> list[list]:
    """The rows of a table as a handler receives it (a DataFrame, or a dict / list from an API client)."""
    if isinstance(table, pd.DataFrame):
        return table.values.tolist()
    if isinstance(table, dict):
        return [list(row) for row in table.get("data") or []]
    return [list(row) for row in table or []]


def review_rows(table, base: dict | None) -> list[ReviewRow]:
    """The table's rows as ``ReviewRow``s, each with what the table showed of it when loaded."""
    base = base or {}
    return [ReviewRow(str(row[ID]), str(row[STATUS]), str(row[QUESTION] or ""), str(row[ANSWER] or ""),
                      base.get(str(row[ID]))) for row in table_values(table) if len(row) > ANSWER and row[ID]]


def selected_id(table, index: int) -> str:
    """The pair id of row ``index`` of the table ("" when there is no such row)."""
    rows = table_values(table)
    return str(rows[index][ID]) if 0 <= index < len(rows) and rows[index][ID] else ""


def passage_html(source: PairSource | None) -> str:
    """The passage under its document and heading, the evidence span in ``<mark>``."""
    if source is None:
        return "<p><i>Written by you, not from a passage of the documents.</i></p>"
    text = source.text
    start, end = source.evidence or (0, 0)
    body = escape(text[:start]) + f"<mark>{escape(text[start:end])}</mark>" + escape(text[end:]) if end else escape(text)
    where = " › ".join(escape(part) for part in (source.document, source.heading) if part)
    return (f'<p><b>Source:</b> {where}</p><div class="dab-passage" style="white-space:pre-wrap;max-height:16em;'
            f'overflow:auto;border:1px solid #d1d5db;border-radius:6px;padding:8px">{body}</div>')


def pair_html(pair: Pair | None, use: str, source: PairSource | None) -> str:
    """The selected pair: question, answer, status, what it is used for, then its source passage."""
    if pair is None:
        return "<p><i>Click a row of the table to see its pair here with the passage it comes from.</i></p>"
    return (f'<div id="dab-selected-pair"><p><b>Q:</b> {escape(pair.question)}<br><b>A:</b> {escape(pair.answer)}</p>'
            f"<p>Status <b>{escape(pair.status)}</b> · used for <b>{escape(use)}</b> · id <code>{pair.id}</code></p>"
            f"{passage_html(source)}</div>")
