"""Step 4, Evaluate & chat: the tuned model and the base model side by side, streaming."""

from pathlib import Path

import gradio as gr

from builder.evaluate import evaluate_run
from builder.project import Project
from builder.workflow import heldout_pairs, latest_adapter

from ..engines import get_engine
from ..errors import friendly


def engine_for(root: str):
    project = Project.open(Path(root))
    cfg = project.load_config()
    adapter = latest_adapter(project)
    if adapter is None:
        raise gr.Error("Train a model first (step 3).")
    return get_engine(cfg.train.base_model, adapter), cfg, adapter


@friendly
def on_send(message: str, tuned: list, base: list, root: str):
    if not message or not message.strip():
        raise gr.Error("Type a question first.")
    engine, cfg, _ = engine_for(root)
    history = [{"role": "user", "content": message}]
    tuned = tuned + [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
    base = base + [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
    for target, use_adapter in ((tuned, True), (base, False)):
        for piece in engine.stream(history, cfg.chat, use_adapter=use_adapter):
            target[-1]["content"] += piece
            yield "", tuned, base


@friendly
def on_stop(root: str):
    engine_for(root)[0].stop()


@friendly
def on_evaluate(root: str, progress=gr.Progress()):
    engine, cfg, adapter = engine_for(root)
    progress(0.1, desc="Scoring base and tuned answers")
    heldout = heldout_pairs(Project.open(Path(root)))
    if not heldout:
        raise gr.Error("No held-out questions yet: generate more pairs so some can be set aside.")
    report = evaluate_run(engine, heldout, cfg, adapter.parent)
    return (f"On {report['pairs']} held-out questions, answer perplexity went from "
            f"**{report['base']['perplexity']}** (base) to **{report['tuned']['perplexity']}** (tuned). Lower is better.")


def build(root: gr.State) -> dict:
    gr.Markdown("### 4 · Evaluate & chat\nAsk a question: the tuned model answers on the left, the "
                "original model on the right. Next, share a demo.")
    evaluate = gr.Button("Evaluate on held-out questions")
    report = gr.Markdown()
    with gr.Row():
        tuned = gr.Chatbot(label="Tuned model", height=350)
        base = gr.Chatbot(label="Base model", height=350)
    with gr.Row():
        message = gr.Textbox(placeholder="Ask something your documents answer…", show_label=False, scale=4)
        send = gr.Button("Send", variant="primary", scale=1)
        stop = gr.Button("Stop", scale=1)
    send.click(on_send, [message, tuned, base, root], [message, tuned, base])
    message.submit(on_send, [message, tuned, base, root], [message, tuned, base])
    stop.click(on_stop, [root], None)
    evaluate.click(on_evaluate, [root], [report])
    return {}
