"""Step 3, Fine-tune: start, follow and stop a training run that lives in its own process."""

from pathlib import Path

import gradio as gr
import pandas as pd

from builder.project import Project
from builder.train.runner import read_metrics, read_status, request_stop, start_training

from ..errors import friendly

ACTIVE_STATES = {"starting", "loading", "running"}


def latest_run(project: Project) -> Path | None:
    runs = sorted(project.runs_dir.glob("*/status.json")) if project.runs_dir.exists() else []
    return runs[-1].parent if runs else None


def describe(run: Path | None) -> str:
    if run is None:
        return "No training yet."
    status = read_status(run)
    state = status.get("state", "unknown")
    line = f"**{state}** — run `{run.name}`"
    if status.get("total_steps"):
        line += f", step {status.get('step', 0)} of {status['total_steps']}"
    metrics = [m for m in read_metrics(run) if "loss" in m]
    if metrics:
        last = metrics[-1]
        line += f", loss {last['loss']:.3f}, {last['tokens_per_s']:.0f} tokens/s, about {last['eta_s']:.0f} s left"
    if status.get("message") and state == "failed":
        line += f"\n\n{status['message']}"
    return line


def loss_frame(run: Path | None) -> pd.DataFrame:
    rows = [{"step": m["step"], "loss": m["loss"], "series": "train"} for m in read_metrics(run) if "loss" in m] if run else []
    rows += [{"step": m["step"], "loss": m["eval_loss"], "series": "eval"} for m in read_metrics(run) if "eval_loss" in m] if run else []
    return pd.DataFrame(rows, columns=["step", "loss", "series"])


@friendly
def on_start(base_model: str, max_steps: float, root: str):
    project = Project.open(Path(root))
    run = latest_run(project)
    if run is not None and read_status(run).get("state") in ACTIVE_STATES:
        raise gr.Error("A training is already running for this project.")
    cfg = project.load_config()
    cfg.train.base_model = base_model.strip()
    cfg.train.max_steps = int(max_steps or 0)
    project.save_config(cfg)
    run = start_training(project)
    return describe(run), loss_frame(run)


@friendly
def on_stop(root: str):
    run = latest_run(Project.open(Path(root)))
    if run is None or read_status(run).get("state") not in ACTIVE_STATES:
        raise gr.Error("No training is running.")
    request_stop(run)
    gr.Info("Stopping after the current step; the adapter will be saved.")
    return describe(run)


def poll(root: str):
    run = latest_run(Project.open(Path(root)))
    return describe(run), loss_frame(run)


def build(root: gr.State, default_model: str) -> dict:
    gr.Markdown("### 3 · Fine-tune\nA small adapter is trained on your pairs while the base model stays "
                "frozen. Training runs in the background: you may close this tab and come back. "
                "Next, compare the tuned model with the base one.")
    with gr.Row():
        base_model = gr.Textbox(default_model, label="Base model", info="'bundled' = SmolLM2-135M, or a Hub id / folder")
        max_steps = gr.Number(0, label="Max steps (0 = by epochs)", precision=0)
    with gr.Row():
        start = gr.Button("Start training", variant="primary")
        stop = gr.Button("Stop", variant="stop")
    status = gr.Markdown("No training yet.")
    plot = gr.LinePlot(x="step", y="loss", color="series", label="Loss", height=300)
    timer = gr.Timer(2.0)
    start.click(on_start, [base_model, max_steps, root], [status, plot])
    stop.click(on_stop, [root], [status])
    timer.tick(poll, [root], [status, plot])
    return {"refresh": (poll, [root], [status, plot])}
