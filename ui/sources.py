"""Sources under a chat answer, as Gradio chat messages: one collapsed box per passage.

    history += source_messages(prompt)     # prompt: builder.answers.GroundedPrompt

Each source is an assistant message with ``metadata`` (a Gradio "thought"): its title names the
document and heading, its log shows a short snippet (the stretch of the passage that holds most
of the question's words, ``answers.snippet``), and opening it shows the whole passage.
When the answer used no passage, one such message says why (no documents, nothing matched,
answering from the documents switched off). Under a finished answer, ``check_messages`` adds a
box naming its figures, dates, codes and names that none of its sources states, and one showing
the line of the sources that states each of its other figures.
``engines.history_messages`` leaves these messages out of what the model is sent.
"""

from builder.answers import NO_DOCUMENTS, NO_MATCH, OFF, GroundedPrompt, heading, snippet
from builder.retrieve import Passage

DETAILS = {NO_DOCUMENTS: "This project has no documents yet, so the model answered from what it learned.",
           NO_MATCH: "No passage of the documents matches the question: the model was asked to say so "
                     "rather than guess.",
           OFF: "\"Answer from the documents\" is off, so the model answered from what it learned: check "
                "numbers and names against your documents."}
CHECK_DETAIL = ("None of the sources shown states these figures, dates or names: the model may have made them up. "
                "Check them against your documents before relying on them.")
FIGURES_DETAIL = ("Each figure of the answer with the line of the sources that states it. A small model sometimes "
                  "copies the figure of a neighbouring line: check that each line is about what you asked.")


def source_message(number: int, passage: Passage, question: str = "") -> dict:
    """One passage as a collapsed box: document > heading, a snippet for ``question`` beside it, the
    passage inside."""
    where = " › ".join(filter(None, [passage.document, heading(passage).replace(" > ", " › ")]))
    return {"role": "assistant", "content": passage.text,
            "metadata": {"title": f"Source {number}: {where}", "log": snippet(passage.text, question=question),
                         "status": "done"}}


def check_message(unsupported: list[str]) -> dict:
    """A box under an answer naming what of it no source states (``GroundedPrompt.unsupported``)."""
    return {"role": "assistant", "content": CHECK_DETAIL,
            "metadata": {"title": "⚠ Not in the sources: " + ", ".join(unsupported), "status": "done"}}


def figures_message(found: list[dict]) -> dict:
    """A box under an answer showing the line of the sources that states each of its figures
    (``GroundedPrompt.figure_lines``)."""
    lines = "\n".join(f'- {f["fact"]}: {f["document"]}, "{f["line"]}"' for f in found)
    return {"role": "assistant", "content": f"{FIGURES_DETAIL}\n{lines}",
            "metadata": {"title": "Where the figures are: " + ", ".join(f'{f["fact"]} ({f["document"]})' for f in found),
                         "status": "done"}}


def check_messages(prompt: GroundedPrompt, answer: str) -> list[dict]:
    """The boxes to put right under a finished ``answer``: what no source states, and where its
    other figures are; none when it states no figure, date, code or name."""
    unsupported, figures = prompt.unsupported(answer), prompt.figure_lines(answer)
    return [*([check_message(unsupported)] if unsupported else []), *([figures_message(figures)] if figures else [])]


def source_messages(prompt: GroundedPrompt) -> list[dict]:
    """The messages to show under an answer: its sources, or the note saying why it has none."""
    if prompt.note:
        return [{"role": "assistant", "content": DETAILS.get(prompt.status, ""),
                 "metadata": {"title": prompt.note, "status": "done"}}]
    return [source_message(number, passage, prompt.question) for number, passage in enumerate(prompt.passages, 1)]
