"""Step 4, Evaluate & Chat: the report card, then the tuned and base models side by side, streaming,
both answering from the same passages of the documents, with the sources under each answer."""

import dataclasses
from pathlib import Path

import gradio as gr
import pandas as pd

from builder import torch_thread
from builder.answers import grounded_prompt
from builder.config import MAX_PASSAGES_K
from builder.eval_report import verdict
from builder.eval_sets import evaluation_sets
from builder.evaluate import evaluate_run
from builder.project import Project
from builder.runs import chat_settings, newest_trained_run

from ..engines import get_engine, stop_current, history_messages
from ..errors import friendly
from ..sources import source_messages


def engine_for(root: str):
    """The newest trained run's engine, the project's config and the run."""
    project = Project.open(Path(root))
    project_cfg = project.load_config()
    run = newest_trained_run(project)
    if run is None:
        raise gr.Error("Train a model first (step 3).")
    return get_engine(run, project_cfg), project_cfg, run


MODELS = ("base", "tuned")
WAITING = "⏳ *Waiting for the model: it is finishing another task (an evaluation or pair generation).*"
QUESTION_COLUMNS = ["set", "question", "reference", "base_closed", "tuned_closed", "base_open", "tuned_open"]
MEASURES = (("fact_accuracy", "right facts"), ("abstained", "said not covered"), ("token_f1", "word overlap (F1)"))


def bar_frame(rows: list[dict]) -> pd.DataFrame:
    """Bars side by side (one per measure and model); empty charts keep one NaN row per model."""
    rows = rows or [{"bar": "", "model": who, "value": float("nan")} for who in MODELS]
    return pd.DataFrame(rows, columns=["bar", "model", "value"])


def report_views(report: dict | None) -> tuple:
    """The verdict, a table (set, mode, measure, base, tuned), a bar chart of fact accuracy, the questions."""
    if not report or "results" not in report:
        return ("No report yet: press the button to ask both models questions kept out of training.",
                pd.DataFrame(columns=["set", "answers", "measure", "base", "tuned"]), bar_frame([]),
                pd.DataFrame(columns=QUESTION_COLUMNS))
    table = pd.DataFrame([[name, "from memory" if mode == "closed" else "reading the documents", label,
                           result[mode]["base"].get(key), result[mode]["tuned"].get(key)]
                          for name, result in report["results"].items() for mode in ("closed", "open")
                          for key, label in MEASURES if result[mode]["tuned"].get(key) is not None],
                         columns=["set", "answers", "measure", "base", "tuned"])
    line = report.get("headline") or {}
    bars = bar_frame([{"bar": f"{'memory' if mode == 'closed' else 'documents'} ({who})", "model": who,
                       "value": float(line.get(f"{who}_{mode}") or 0)} for mode in ("closed", "open") for who in MODELS]
                     if line else [])
    questions = pd.DataFrame([{k: row.get(k) for k in QUESTION_COLUMNS} for row in report.get("questions", [])],
                             columns=QUESTION_COLUMNS)
    return verdict(report), table, bars, questions


@friendly
def on_evaluate(root: str, progress=gr.Progress()):
    progress(0.02, desc="Loading the models")
    engine, project_cfg, run = engine_for(root)
    project = Project.open(Path(root))
    sets = evaluation_sets(project, run)
    if not (sets.recall or sets.unseen):
        raise gr.Error("No held-out questions yet: generate more pairs and train again, so some can be set aside.")
    report = evaluate_run(engine, project, project_cfg, run,
                          on_progress=lambda fraction, message: progress(fraction, desc=message))
    return report_views(report)


def panes(message: str, tuned: list, base: list, root: str, chat, special_tokens) -> list[tuple]:
    """(messages to send, pane shown, its empty answer) for each model, both grounded in the same
    passages: the tuned pane's retrieval is reused for the base pane."""
    question = {"role": "user", "content": message}
    asked = [history_messages(history) + [question] for history in (tuned, base)]
    prompt = grounded_prompt(Project.open(Path(root)), asked[0], chat, special_tokens)
    sent = [prompt.messages, prompt.for_conversation(asked[1])]
    result = []
    for history, messages in zip((tuned, base), sent):
        reply = {"role": "assistant", "content": ""}
        result.append((messages, list(history or []) + [question, reply, *source_messages(prompt)], reply))
    return result


@friendly
def on_send(message: str, tuned: list, base: list, root: str, grounded: bool = True, passages_k: float = 3):
    """Stream the tuned answer into the left pane, then the base answer into the right one; the
    sources (or why there are none) sit under each answer."""
    if not message or not message.strip():
        raise gr.Error("Type a question first.")
    engine, project_cfg, run = engine_for(root)
    chat = dataclasses.replace(chat_settings(project_cfg, run), grounded=bool(grounded), passages_k=int(passages_k))
    (tuned_in, tuned_out, tuned_reply), (base_in, base_out, base_reply) = panes(
        message, tuned, base, root, chat, engine.tokenizer.all_special_tokens)
    yield "", tuned_out, base_out
    for asked, reply, use_adapter in ((tuned_in, tuned_reply, True), (base_in, base_reply, False)):
        if torch_thread.busy():  # the model answers one task at a time: say why nothing comes yet
            reply["content"] = WAITING
            yield "", tuned_out, base_out
        answer = ""
        for piece in engine.stream(asked, chat, use_adapter=use_adapter):
            answer += piece
            reply["content"] = answer
            yield "", tuned_out, base_out
        reply["content"] = answer
    yield "", tuned_out, base_out


def grounding_values(root: str) -> tuple:
    """The project's "Answer from the documents" switch and passages per question."""
    chat = Project.open(Path(root)).load_config().chat
    return chat.grounded, chat.passages_k


@friendly
def on_grounding(root: str, grounded: bool, passages_k: float) -> None:
    """Save the switch and k in the project: the demo, ``dab chat`` and ``dab serve`` use them too."""
    project = Project.open(Path(root))
    project_cfg = project.load_config()
    project_cfg.chat = dataclasses.replace(project_cfg.chat, grounded=bool(grounded), passages_k=int(passages_k))
    project.save_config(project_cfg)


def on_stop():
    """Stop the answer being streamed (nothing to do when no model is loaded yet)."""
    stop_current()


def refresh(root: str):
    run = newest_trained_run(Project.open(Path(root)))
    return report_views(run.eval_report() if run else None)


def build(root: gr.State) -> dict:
    gr.Markdown("### 4 · Evaluate & Chat\nFirst, score the original and the tuned model on questions "
                "kept out of training. Then ask your own: the tuned model answers on the left, the "
                "original on the right. **Next:** share a demo.")
    evaluate = gr.Button("Evaluate on held-out questions")
    summary = gr.Markdown()
    with gr.Row():
        table = gr.Dataframe(label="Report card", interactive=False, elem_id="report-table")
        chart = gr.BarPlot(bar_frame([]), x="bar", y="value", color="model", label="Base vs tuned", height=260,
                           color_map={"base": "#9ca3af", "tuned": "#2563eb"}, elem_id="report-chart",
                           x_title="metric (model)", y_title="value")
    with gr.Accordion("Every held-out question: reference, both answers, scores", open=False):
        questions = gr.Dataframe(interactive=False, wrap=True, max_height=400)
    with gr.Row():
        tuned = gr.Chatbot(label="Tuned model", height=350, elem_id="chat-tuned")
        base = gr.Chatbot(label="Original model", height=350, elem_id="chat-base")
    with gr.Row():
        message = gr.Textbox(placeholder="Ask something your documents answer…", show_label=False, scale=4,
                             elem_id="chat-input")
        send = gr.Button("Send", variant="primary", scale=1, elem_id="chat-send")
        stop = gr.Button("Stop", scale=1)
    with gr.Row():
        grounded = gr.Checkbox(True, label="Answer from the documents", elem_id="chat-grounded",
                               info="Each question is asked over the passages of your documents that match it best.")
        passages_k = gr.Slider(1, MAX_PASSAGES_K, value=3, step=1, label="Passages per question", elem_id="chat-k")
    inputs = [message, tuned, base, root, grounded, passages_k]
    sent = [send.click(on_send, inputs, [message, tuned, base], api_name="chat"),
            message.submit(on_send, inputs, [message, tuned, base], api_visibility="private")]
    stop.click(on_stop, None, None, cancels=sent, api_name="chat_stop")
    grounded.input(on_grounding, [root, grounded, passages_k], None, api_name="chat_grounding")
    passages_k.release(on_grounding, [root, grounded, passages_k], None, api_visibility="private")
    evaluated = evaluate.click(on_evaluate, [root], [summary, table, chart, questions], api_name="evaluate")
    return {"refresh": (refresh, [root], [summary, table, chart, questions]), "changed": [evaluated],
            "settings": (grounding_values, [root], [grounded, passages_k])}
