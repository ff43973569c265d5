"""Step 3, Train: start, follow and stop a training run that lives in its own process.

The run writes its status and metrics into its folder; this page only reads them (every two
seconds), so closing the tab or reloading the page never stops or loses a training.
"""

from dataclasses import replace
from pathlib import Path

import gradio as gr
import pandas as pd

from builder.config import BUNDLED_MODEL
from builder.project import Project
from builder.train.runner import read_metrics, read_status, request_stop, start_training
from builder.workflow import latest_run, run_is_active

from ..errors import friendly

BUNDLED_CHOICE = ("Bundled: SmolLM2-135M-Instruct (works offline)", "bundled")


def describe(run: Path | None) -> str:
    """One status line: state, step, loss, speed and time left."""
    if run is None:
        return "No training yet."
    status = read_status(run)
    state = status.get("state", "unknown")
    if state in {"starting", "loading", "running"} and not run_is_active(run):
        state = "interrupted (the training process ended unexpectedly; see train.log in the run folder)"
    line = f"**{state}** — run `{run.name}`"
    if status.get("total_steps"):
        line += f", step {status.get('step', 0)} of {status['total_steps']}"
    metrics = [m for m in read_metrics(run) if "loss" in m]
    if metrics:
        last = metrics[-1]
        line += (f", loss {last['loss']:.3f}, {last['tokens_per_s']:.0f} tokens/s, "
                 f"about {last['eta_s']:.0f} s left")
    if status.get("message") and status.get("state") == "failed":
        line += f"\n\n{status['message']}"
    return line


def loss_frame(run: Path | None) -> pd.DataFrame:
    """Train and eval loss per step, in long form for the line plot."""
    metrics = read_metrics(run) if run else []
    rows = [{"step": m["step"], "loss": m["loss"], "series": "train"} for m in metrics if "loss" in m]
    rows += [{"step": m["step"], "loss": m["eval_loss"], "series": "eval"} for m in metrics if "eval_loss" in m]
    return pd.DataFrame(rows, columns=["step", "loss", "series"])


def model_value(spec: str) -> str:
    return "bundled" if spec in {BUNDLED_MODEL, "bundled"} else spec


@friendly
def on_start(base_model: str, epochs: float, max_steps: float, learning_rate: float, lora_rank: float,
             root: str):
    project = Project.open(Path(root))
    if run_is_active(latest_run(project)):
        raise gr.Error("A training is already running for this project: follow it below, or stop it first.")
    if not (base_model or "").strip():
        raise gr.Error("Choose a base model first.")
    cfg = project.load_config()
    spec = base_model.strip()
    cfg.train = replace(cfg.train, base_model=BUNDLED_MODEL if spec == "bundled" else spec,
                        epochs=float(epochs or 0), max_steps=int(max_steps or 0),
                        learning_rate=float(learning_rate or 0), lora_rank=int(lora_rank or 0),
                        lora_alpha=2 * int(lora_rank or 0))  # replace() validates the values
    project.save_config(cfg)
    run = start_training(project)
    return describe(run), loss_frame(run)


@friendly
def on_stop(root: str):
    run = latest_run(Project.open(Path(root)))
    if not run_is_active(run):
        raise gr.Error("No training is running.")
    request_stop(run)
    gr.Info("Stopping after the current step; the adapter will be saved.")
    return describe(run)


def poll(root: str):
    run = latest_run(Project.open(Path(root)))
    return describe(run), loss_frame(run)


def settings(root: str):
    """The saved training settings, so a reload shows what the next run will use."""
    tc = Project.open(Path(root)).load_config().train
    value = model_value(tc.base_model)
    choices = [BUNDLED_CHOICE] + ([] if value == "bundled" else [(value, value)])
    return gr.Dropdown(choices=choices, value=value), tc.epochs, tc.max_steps, tc.learning_rate, tc.lora_rank


def build(root: gr.State) -> dict:
    gr.Markdown("### 3 · Train\nA small adapter is trained on your pairs while the base model stays "
                "frozen. Training runs in the background: you may close this tab and come back. "
                "**Next:** compare the tuned model with the original one.")
    base_model = gr.Dropdown([BUNDLED_CHOICE], value="bundled", allow_custom_value=True, label="Base model",
                             info="The bundled model works offline; or type a Hugging Face model id or a local folder.")
    with gr.Accordion("Advanced settings", open=False):
        with gr.Row():
            epochs = gr.Number(3.0, label="Epochs (passes over your pairs)", minimum=0)
            max_steps = gr.Number(0, label="Max steps (0 = by epochs)", precision=0, minimum=0)
            learning_rate = gr.Number(2e-4, label="Learning rate")
            lora_rank = gr.Number(16, label="Adapter rank", precision=0, minimum=1)
    with gr.Row():
        start = gr.Button("Start training", variant="primary", elem_id="train-start")
        stop = gr.Button("Stop", variant="stop")
    status = gr.Markdown("No training yet.", elem_id="train-status")
    plot = gr.LinePlot(x="step", y="loss", color="series", label="Loss (lower is better)", height=300,
                       elem_id="loss-plot")
    timer = gr.Timer(2.0)
    started = start.click(on_start, [base_model, epochs, max_steps, learning_rate, lora_rank, root],
                          [status, plot], api_name="train_start", concurrency_limit=1)
    stop.click(on_stop, [root], [status], api_name="train_stop")
    timer.tick(poll, [root], [status, plot], api_name="train_poll", show_progress="hidden")
    return {"refresh": (poll, [root], [status, plot]), "settings": (settings, [root], [base_model, epochs, max_steps, learning_rate, lora_rank]),
            "changed": [started]}
