"""Step 4, Evaluate & Chat: the report card (``ui.report``), then the tuned and base models side by
side, streaming, both answering from the same passages of the documents, with the sources under
each answer. "New conversation" empties both panes; so does opening another project.
"""

import dataclasses
from pathlib import Path

import gradio as gr

from builder import torch_thread
from builder.answers import engine_prompt
from builder.config import MAX_PASSAGES_K
from builder.models import pick_device
from builder.rerank import CANDIDATES
from builder.project import Project
from builder.runs import chat_settings, newest_trained_run

from .. import report
from ..engines import get_engine, stop_current, history_messages
from ..errors import friendly
from ..sources import check_messages, source_messages


def engine_for(root: str):
    """The newest trained run's engine, the project's config and the run."""
    project = Project.open(Path(root))
    project_cfg = project.load_config()
    run = newest_trained_run(project)
    if run is None:
        raise gr.Error("Train a model first (step 3).")
    return get_engine(run, project_cfg), project_cfg, run


RERANK_LABELS = [("Auto: on a GPU only", "auto"), ("On", "on"), ("Off", "off")]
CHAT_HEIGHT_PX = 460  # a question, its answer and three sources fit without scrolling
WAITING = "⏳ *Waiting for the model: it is finishing another task (an evaluation or pair generation).*"
LOOKING = "🔎 *Looking up your documents…*"
GROUNDED_HELP = ("Each question is asked over the passages of your documents that match it best; open \"Sources\" "
                 "under the answer to read them. \"⚠ Not in the sources\" names figures, dates or names of an answer "
                 "that no source states; \"⚠ Unsure\" marks an answer that also says the documents do not cover the "
                 "question: take it as not found. \"Where the figures are\" shows the line of the sources that "
                 "states each other figure: a small model sometimes copies the figure of a neighbouring line, so "
                 "check that the line is about what you asked.")


def panes(message: str, tuned: list, base: list, root: str, chat, engine) -> tuple:
    """The grounded prompt, and (messages to send, pane shown, its empty answer) for each model,
    both grounded in the same passages: the tuned pane's retrieval is reused for the base pane."""
    question = {"role": "user", "content": message}
    asked = [history_messages(history) + [question] for history in (tuned, base)]
    prompt = engine_prompt(engine, Project.open(Path(root)), asked[0], chat)
    sent = [prompt.messages, prompt.for_conversation(asked[1])]
    result, sources = [], source_messages(prompt)
    for history, messages in zip((tuned, base), sent):
        reply = {"role": "assistant", "content": ""}
        result.append((messages, list(history or []) + [question, reply, *sources], reply))
    return prompt, result


def flag_checks(pane: list, reply: dict, checks: list[dict]) -> None:
    """Put the answer's ``check_messages`` right under ``reply`` in ``pane``."""
    if checks:
        at = next(i for i, message in enumerate(pane) if message is reply)
        pane[at + 1:at + 1] = checks


def rerank_help(device: str) -> str:
    """What re-ranking does, what it costs, and what "Auto" does on this computer."""
    here = ("This computer has a GPU: Auto re-ranks." if device == "cuda" else
            "This computer has no GPU: Auto leaves it off.")
    return (f"Search finds the {CANDIDATES} passages closest to your question, by its words and their meaning; "
            "the model then reads them and picks those that fit your question best. It finds the right passage "
            f"a little more often, but without a GPU each question waits 1–2 s longer. {here}")


def asked_panes(message: str, tuned: list, base: list, grounded: bool) -> list[list]:
    """Both panes with the question shown, and a note that the documents are being looked up."""
    question = {"role": "user", "content": message}
    looking = [{"role": "assistant", "content": LOOKING}] if grounded else []
    return [list(history or []) + [question, *looking] for history in (tuned, base)]


@friendly
def on_send(message: str, tuned: list, base: list, root: str, grounded: bool = True, passages_k: float = 3,
            rerank: str = "auto"):
    """Stream the tuned answer into the left pane, then the base answer into the right one; the
    sources (or why there are none) sit under each answer."""
    if not message or not message.strip():
        raise gr.Error("Type a question first.")
    yield "", *asked_panes(message, tuned, base, bool(grounded))  # at once: loading and searching take seconds
    engine, project_cfg, run = engine_for(root)
    chat = dataclasses.replace(chat_settings(project_cfg, run), grounded=bool(grounded), passages_k=int(passages_k),
                               rerank=rerank)
    prompt, ((tuned_in, tuned_out, tuned_reply), (base_in, base_out, base_reply)) = panes(
        message, tuned, base, root, chat, engine)
    yield "", tuned_out, base_out
    for asked, pane, reply, use_adapter in ((tuned_in, tuned_out, tuned_reply, True),
                                            (base_in, base_out, base_reply, False)):
        if torch_thread.busy():  # the model answers one task at a time: say why nothing comes yet
            reply["content"] = WAITING
            yield "", tuned_out, base_out
        answer = ""
        for piece in engine.stream(asked, chat, use_adapter=use_adapter):
            answer += piece
            reply["content"] = answer
            yield "", tuned_out, base_out
        reply["content"] = answer
        flag_checks(pane, reply, check_messages(prompt, answer))
    yield "", tuned_out, base_out


def grounding_values(root: str) -> tuple:
    """The project's "Answer from the documents" switch, passages per question and re-ranking."""
    chat = Project.open(Path(root)).load_config().chat
    return chat.grounded, chat.passages_k, chat.rerank


def passages_setting(grounded: bool) -> tuple:
    """Passages per question and re-ranking can be set only while answers come from the documents."""
    return gr.Slider(interactive=bool(grounded)), gr.Radio(interactive=bool(grounded))


@friendly
def on_grounding(root: str, grounded: bool, passages_k: float, rerank: str = "auto") -> None:
    """Save the switch, k and re-ranking in the project: the demo, ``dab chat`` and ``dab serve`` use them too."""
    project = Project.open(Path(root))
    project_cfg = project.load_config()
    project_cfg.chat = dataclasses.replace(project_cfg.chat, grounded=bool(grounded), passages_k=int(passages_k),
                                           rerank=rerank)
    project.save_config(project_cfg)


def on_stop():
    """Stop the answer being streamed (nothing to do when no model is loaded yet)."""
    stop_current()


def new_conversation():
    """Both panes and the question box empty."""
    return [], [], ""


def refresh(root: str):
    """The project's report card, and an empty conversation (a page load or another project)."""
    return (*report.views(root), *new_conversation())


def build(root: gr.State) -> dict:
    gr.Markdown("### 4 · Evaluate & Chat\nFirst, score the original and the tuned model on questions "
                "kept out of training. Then ask your own: the tuned model answers on the left, the "
                "original on the right. **Next:** share a demo.")
    card = report.build(root)
    with gr.Row():
        tuned = gr.Chatbot(label="Tuned model", height=CHAT_HEIGHT_PX, elem_id="chat-tuned")
        base = gr.Chatbot(label="Original model", height=CHAT_HEIGHT_PX, elem_id="chat-base")
    with gr.Row():
        message = gr.Textbox(placeholder="Ask something your documents answer…", show_label=False, scale=4,
                             elem_id="chat-input")
        send = gr.Button("Send", variant="primary", scale=1, elem_id="chat-send")
        stop = gr.Button("Stop", scale=1)
        fresh = gr.Button("New conversation", scale=1, elem_id="chat-new")
    with gr.Row():
        grounded = gr.Checkbox(True, label="Answer from the documents", elem_id="chat-grounded", info=GROUNDED_HELP)
        passages_k = gr.Slider(1, MAX_PASSAGES_K, value=3, step=1, label="Passages per question", elem_id="chat-k")
        rerank = gr.Radio(RERANK_LABELS, value="auto", label="Re-rank passages with the model", elem_id="chat-rerank",
                          info=rerank_help(pick_device()))
    settings = [root, grounded, passages_k, rerank]
    inputs = [message, tuned, base, *settings]
    sent = [send.click(on_send, inputs, [message, tuned, base], api_name="chat"),
            message.submit(on_send, inputs, [message, tuned, base], api_visibility="private")]
    stop.click(on_stop, None, None, cancels=sent, api_name="chat_stop")
    fresh.click(new_conversation, None, [tuned, base, message], cancels=sent, api_name="chat_new")
    grounded.input(on_grounding, settings, None, api_name="chat_grounding")
    grounded.change(passages_setting, grounded, [passages_k, rerank], api_visibility="private")
    passages_k.release(on_grounding, settings, None, api_visibility="private")
    rerank.input(on_grounding, settings, None, api_visibility="private")
    _, _, shown = card["views"]
    return {"refresh": (refresh, [root], [*shown, tuned, base, message]), "changed": card["changed"],
            "settings": (grounding_values, [root], [grounded, passages_k, rerank]), "cancel_on_switch": sent,
            "after_training": card["views"]}
