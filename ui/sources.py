"""Sources under a chat answer, as Gradio chat messages: one collapsed box holding a box per passage.

    history += source_messages(prompt)     # prompt: builder.answers.GroundedPrompt

The sources are assistant messages with ``metadata`` (Gradio "thoughts"): one collapsed box
"Sources (3): rent.pdf, faq.md" holds them (nested thoughts, ``parent_id``), so an answer takes
a line of its pane, not a page. Inside, each source's title names the document and heading, its
log shows a short snippet (the stretch of the passage that holds most of the question's words,
``answers.snippet``), and opening it shows the whole passage. When the answer used no passage,
one box says why (no documents, nothing matched, answering from the documents switched off).
Under a finished answer, ``check_messages`` adds boxes, above the sources: one naming its figures,
dates, codes and names that none of its sources states, one when it both answers and says the
documents do not cover the question, and one showing the line of the sources that states each
of its other figures. ``engines.history_messages`` leaves these messages out of what the model
is sent.
"""

import uuid

from builder.answers import NO_DOCUMENTS, NO_MATCH, OFF, GroundedPrompt, claim_beside_decline, heading, snippet
from builder.retrieve import Passage

DETAILS = {NO_DOCUMENTS: "This project has no documents yet, so the model answered from what it learned.",
           NO_MATCH: "No passage of the documents matches the question: the model was asked to say so "
                     "rather than guess.",
           OFF: "\"Answer from the documents\" is off, so the model answered from what it learned: check "
                "numbers and names against your documents."}
CHECK_DETAIL = ("None of the sources shown states these figures, dates or names: the model may have made them up. "
                "Check them against your documents before relying on them.")
UNSURE_TITLE = "⚠ Unsure: the answer also says the documents do not cover this"
UNSURE_DETAIL = ("The model started an answer and then said the documents do not cover the question: take it as "
                 "not found. Open the sources: the line beside each is the one that matches your question best.")
FIGURES_DETAIL = ("Each figure of the answer with the line of the sources that states it. A small model sometimes "
                  "copies the figure of a neighbouring line: check that each line is about what you asked.")


def source_message(number: int, passage: Passage, question: str, group: str) -> dict:
    """One passage as a collapsed box inside the box ``group``: document > heading, a snippet for
    ``question`` beside it, the passage inside."""
    where = " › ".join(filter(None, [passage.document, heading(passage).replace(" > ", " › ")]))
    return {"role": "assistant", "content": passage.text,
            "metadata": {"title": f"Source {number}: {where}", "log": snippet(passage.text, question=question),
                         "status": "done", "parent_id": group}}


def sources_box(passages: tuple[Passage, ...], group: str) -> dict:
    """The collapsed box that holds an answer's sources: "Sources (3): rent.pdf, faq.md"."""
    documents = ", ".join(dict.fromkeys(passage.document for passage in passages))
    return {"role": "assistant", "content": "",
            "metadata": {"title": f"Sources ({len(passages)}): {documents}", "id": group, "status": "done"}}


def check_message(unsupported: list[str]) -> dict:
    """A box under an answer naming what of it no source states (``GroundedPrompt.unsupported``)."""
    return {"role": "assistant", "content": CHECK_DETAIL,
            "metadata": {"title": "⚠ Not in the sources: " + ", ".join(unsupported), "status": "done"}}


def unsure_message() -> dict:
    """A box under an answer that both states something and says the documents do not cover it."""
    return {"role": "assistant", "content": UNSURE_DETAIL, "metadata": {"title": UNSURE_TITLE, "status": "done"}}


def figures_message(found: list[dict]) -> dict:
    """A box under an answer showing the line of the sources that states each of its figures
    (``GroundedPrompt.figure_lines``)."""
    lines = "\n".join(f'- {f["fact"]}: {f["document"]}, "{f["line"]}"' for f in found)
    return {"role": "assistant", "content": f"{FIGURES_DETAIL}\n{lines}",
            "metadata": {"title": "Where the figures are: " + ", ".join(f'{f["fact"]} ({f["document"]})' for f in found),
                         "status": "done"}}


def check_messages(prompt: GroundedPrompt, answer: str) -> list[dict]:
    """The boxes to put right under a finished ``answer``: what no source states, whether it also
    declines, and where its other figures are; none for a plain answer or a plain decline."""
    unsupported, figures = prompt.unsupported(answer), prompt.figure_lines(answer)
    return [*([check_message(unsupported)] if unsupported else []),
            *([unsure_message()] if claim_beside_decline(answer) else []),
            *([figures_message(figures)] if figures else [])]


def source_messages(prompt: GroundedPrompt) -> list[dict]:
    """The messages to show under an answer: its sources, or the note saying why it has none."""
    if prompt.note:
        return [{"role": "assistant", "content": DETAILS.get(prompt.status, ""),
                 "metadata": {"title": prompt.note, "status": "done"}}]
    group = f"sources-{uuid.uuid4().hex[:12]}"  # unique in a pane: each answer's box holds its own sources
    return [sources_box(prompt.passages, group),
            *(source_message(number, passage, prompt.question, group) for number, passage in enumerate(prompt.passages, 1))]
