"""Step 3, Train: choose a model and preset, check the plan, start / stop / resume a training run.

The run lives in its own process and writes its status and metrics into its folder; this page
only reads them (every two seconds), so closing the tab or reloading the page never stops or
loses a training, and a reloaded page picks the running one up again. The status line names
what the run is doing (loading the model, preparing the data, training, evaluating) and the time
left (``runs.progress_line``). The advanced settings show the values the chosen preset trains
with (``plan_run``); editing one switches to Custom. Start, Resume and Stop are enabled only when
they can act.
"""

import functools
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pandas as pd

from builder.config import BUNDLED_MODEL, RECOMMENDED_PRESET
from builder.errors import BuilderError
from builder.pairs import unreviewed_count
from builder.durations import duration
from builder.project import Project
from builder.runs import Run, newest_run, pairs_changed, progress_line
from builder.train.runner import start_training
from builder.train.plan import RunPlan, expected_train_s, plan_run
from builder.train.presets import PRESETS as PRESET_VALUES
from builder.train.presets import detect_hardware, lora_alpha, recommended_models

from ..errors import friendly

SERIES = ("training pairs", "held-out pairs")  # the loss on what the model learns from, and on what it never saw
PRESET_LABELS = {"quick": "Quick (fewer passes, faster)", "balanced": "Balanced",
                 "thorough": "Thorough (more passes, slower)", "custom": "Custom (the advanced settings below)"}
PRESETS = [(label + (" · recommended" if name == RECOMMENDED_PRESET else ""), name)
           for name, label in PRESET_LABELS.items()]
BUNDLED_CHOICE = ("Bundled: SmolLM2-135M-Instruct (works offline)", "bundled")


def describe(run: Run | None) -> str:
    """One status line: state, what it is doing and the time left while active (``progress_line``),
    step, loss, speed, how long it took once finished (and why it failed)."""
    if run is None:
        return "No training yet."
    status = run.status()
    line = f"**{status.get('state', 'unknown')}** — run `{run.name}`"
    doing = progress_line(status)
    if doing:
        line += f" · {doing}"
    elif status.get("total_steps"):
        line += f", step {status.get('step', 0)} of {status['total_steps']}"
    metrics = [m for m in run.metrics() if "loss" in m]
    if metrics:
        last = metrics[-1]
        line += f", loss {last['loss']:.3f}, {last.get('tokens_per_s', 0):.0f} tokens/s"
    if status.get("state") in ("completed", "stopped") and status.get("elapsed_s"):
        line += f", trained in {duration(status['elapsed_s'])}"
    if status.get("state") == "failed" and status.get("message"):
        line += f"\n\n{status['message']}"
    if run.resumable():
        line += "\n\nThis run did not finish: **Resume** continues it from its last checkpoint."
    if status.get("state") == "completed" and pairs_changed(Project(run.folder.parents[1]), run):
        line += "\n\n↻ **Pairs changed since this model was trained**: train again to learn from them."
    return line


def loss_frame(run: Run | None) -> pd.DataFrame:
    """Train and eval loss per step, in long form for the line plot.

    A series without points yet gets one empty (NaN) row, so the chart knows both series from
    the start (the browser chart cannot add a colour series to a chart that began empty).
    """
    metrics = run.metrics() if run else []
    rows = [{"step": m["step"], "loss": m["loss"], "series": SERIES[0]} for m in metrics if "loss" in m]
    rows += [{"step": m["step"], "loss": m["eval_loss"], "series": SERIES[1]} for m in metrics if "eval_loss" in m]
    first_step = rows[0]["step"] if rows else 1
    rows += [{"step": first_step, "loss": float("nan"), "series": series} for series in SERIES
             if not any(row["series"] == series for row in rows)]
    return pd.DataFrame(rows, columns=["step", "loss", "series"])


@functools.lru_cache(maxsize=1)
def model_choices() -> list[tuple[str, str]]:
    """The bundled model, then Hub models that suit this machine (detected once)."""
    hardware = detect_hardware()
    return [BUNDLED_CHOICE] + [(f"{m} (Hub, suits {hardware.name})", m) for m in recommended_models(hardware)]


def save_settings(root: str, base_model: str, preset: str, epochs: float, max_steps: float,
                  learning_rate: float, lora_rank: float) -> Project:
    """Write the page's settings into project.yaml (``replace`` validates every value)."""
    project = Project.open(Path(root))
    spec = (base_model or "").strip()
    if not spec:
        raise gr.Error("Choose a base model first.")
    project_cfg = project.load_config()
    project_cfg.train = replace(project_cfg.train, base_model=BUNDLED_MODEL if spec == "bundled" else spec,
                                preset=preset, epochs=float(epochs or 0), max_steps=int(max_steps or 0),
                                learning_rate=float(learning_rate or 0), lora_rank=int(lora_rank or 0),
                                lora_alpha=lora_alpha(int(lora_rank or 0)))
    project.save_config(project_cfg)
    return project


@friendly
def on_plan(root: str, *settings):
    project = save_settings(root, *settings)
    plan = plan_run(project, project.load_config())
    tc = plan.run_cfg.train
    sooner = (f" (it stops sooner when {tc.early_stopping_patience} checks in a row find no better answers)"
              if tc.early_stopping_patience else "")
    lines = [data_line(plan), time_line(project, plan),
             f"Estimated memory: **{plan.memory_bytes / 2**30:.1f} GiB**; {tc.epochs:g} passes{sooner}, learning rate "
             f"{tc.learning_rate:g}, adapter rank {tc.lora_rank}, examples of up to {tc.max_seq_tokens} tokens "
             f"packed into rows of {tc.packed_row_tokens}, {tc.grad_accum} row(s) per step."]
    pending = unreviewed_count(plan.pairs)
    if pending:
        lines.append(f"ℹ️ {pending} of the {len(plan.pairs)} pairs are not reviewed yet; they are trained on as "
                     "they are. Step 2 shows them.")
    lines += [f"⚠️ {warning}" for warning in plan.warnings]
    return "\n\n".join(lines)


def data_line(plan: RunPlan) -> str:
    """What the run learns from, in plain words: pairs and facts, the questions kept back to check
    it, and the examples it trains on; a part with nothing in it is left unsaid."""
    counts, splits = plan.mix.counts(), plan.splits
    checks = counted([(len(splits.recall), "other wordings of questions it learns (does it remember?)"),
                      (len(splits.unseen), "questions about passages it never trains on (can it read a new one?)")])
    kinds = counted([(counts["closed_book"], "questions on their own"),
                     (counts["open_book"], "with passages found by search"),
                     (counts["abstain"], "with passages that lack the answer, so it learns to say so")])
    held = f" Kept back to test it as it trains: {' and '.join(checks)}." if checks else ""
    return (f"**{len(splits.train)} pairs about {plan.facts} facts** to learn from.{held} "
            f"Training examples: {sum(counts.values())} ({', '.join(kinds)}), about {plan.steps} steps.")


def counted(parts: list[tuple[int, str]]) -> list[str]:
    """``"<n> <what>"`` for each part whose count is not zero."""
    return [f"{n} {what}" for n, what in parts if n]


def time_line(project: Project, plan: RunPlan) -> str:
    expected = expected_train_s(project, plan)
    if expected is None:
        return "Expected time: shown once the first steps are measured (no earlier run of this model here to go by)."
    seconds, basis = expected
    return f"Expected time: **about {duration(seconds)}** ({basis}); less when it stops early."


def preset_values(project: Project, base_model: str, preset: str) -> tuple[float, float, int]:
    """The passes, learning rate and adapter rank ``preset`` trains with on this project's pairs
    (``plan_run``); the preset's nominal values when the model cannot be read (offline Hub id)."""
    project_cfg = project.load_config()
    spec = (base_model or "").strip() or project_cfg.train.base_model
    project_cfg.train = replace(project_cfg.train, preset=preset, base_model=BUNDLED_MODEL if spec == "bundled" else spec)
    try:
        tc = plan_run(project, project_cfg).run_cfg.train
    except (BuilderError, OSError, ValueError):
        nominal = PRESET_VALUES[preset]
        return nominal["epochs"], nominal["learning_rate"], nominal["lora_rank"]
    return tc.epochs, tc.learning_rate, tc.lora_rank


@friendly
def on_preset(root: str, base_model: str, preset: str, epochs: float, learning_rate: float, lora_rank: float):
    """Show the chosen preset's values in the advanced settings (Custom keeps what is there)."""
    if preset == "custom":
        return epochs, learning_rate, lora_rank
    return preset_values(Project.open(Path(root)), base_model, preset)


def controls(root: str):
    """Start, Resume and Stop, each enabled only when it can act on the project's newest run."""
    run = newest_run(Project.open(Path(root)))
    active = run is not None and run.active()
    return (gr.Button(interactive=not active), gr.Button(interactive=run is not None and run.resumable()),
            gr.Button(interactive=active))


@friendly
def on_start(root: str, *settings):
    run = newest_run(Project.open(Path(root)))
    if run is not None and run.active():
        raise gr.Error("A training is already running for this project: follow it below, or stop it first.")
    project = save_settings(root, *settings)
    run = start_training(project)
    return describe(run), loss_frame(run)


@friendly
def on_resume(root: str):
    project = Project.open(Path(root))
    run = newest_run(project)
    if run is None or not run.resumable():
        raise gr.Error("There is no unfinished run to resume.")
    run = start_training(project, resume=run)
    return describe(run), loss_frame(run)


@friendly
def on_stop(root: str):
    run = newest_run(Project.open(Path(root)))
    if run is None or not run.active():
        raise gr.Error("No training is running.")
    run.request_stop()
    gr.Info("Stopping after the current step; what was learned so far is saved.")
    return describe(run)


def poll(root: str):
    """Status line, loss curve and the run's state (whose change refreshes the progress bar)."""
    run = newest_run(Project.open(Path(root)))
    state = f"{run.name}:{run.status().get('state')}" if run else ""
    return describe(run), loss_frame(run), state


def settings(root: str):
    """The saved training settings, so a reload shows what the next run will use (a preset's own values)."""
    project = Project.open(Path(root))
    tc = project.load_config().train
    value = "bundled" if tc.base_model in {BUNDLED_MODEL, "bundled"} else tc.base_model
    choices = model_choices() + ([] if value in {v for _, v in model_choices()} else [(value, value)])
    epochs, learning_rate, lora_rank = (tc.epochs, tc.learning_rate, tc.lora_rank) if tc.preset == "custom" \
        else preset_values(project, value, tc.preset)
    return gr.Dropdown(choices=choices, value=value), tc.preset, epochs, tc.max_steps, learning_rate, lora_rank


def build(root: gr.State) -> dict:
    gr.Markdown("### 3 · Train\nA small adapter is trained on your pairs while the base model stays "
                "frozen. Training runs in the background: you may close this tab and come back. "
                "**Next:** compare the tuned model with the original one.")
    with gr.Row():
        base_model = gr.Dropdown([BUNDLED_CHOICE], value="bundled", allow_custom_value=True, label="Base model",
                                 scale=3, info="The bundled model works offline; Hub models need internet once. "
                                               "You may also type a Hub id or a local folder.")
        preset = gr.Radio(PRESETS, value=RECOMMENDED_PRESET, label="Preset", scale=2,
                          info="Sets passes, learning rate and adapter size for your hardware and data")
    with gr.Accordion("Advanced settings (the values the preset trains with; editing one switches to Custom)",
                      open=False):
        with gr.Row():
            nominal = PRESET_VALUES[RECOMMENDED_PRESET]
            epochs = gr.Number(nominal["epochs"], label="Epochs (passes over your pairs)", minimum=0)
            max_steps = gr.Number(0, label="Max steps (0 = by epochs; any preset)", precision=0, minimum=0)
            learning_rate = gr.Number(nominal["learning_rate"], label="Learning rate")
            lora_rank = gr.Number(nominal["lora_rank"], label="Adapter rank", precision=0, minimum=1)
    with gr.Row():
        check = gr.Button("Check memory and plan")
        start = gr.Button("Start training", variant="primary", elem_id="train-start")
        resume = gr.Button("Resume", interactive=False, elem_id="train-resume")
        stop = gr.Button("Stop", variant="stop", interactive=False, elem_id="train-stop")
    plan = gr.Markdown()
    status = gr.Markdown("No training yet.", elem_id="train-status")
    plot = gr.LinePlot(loss_frame(None), x="step", y="loss", color="series", label="Loss (lower is better)",
                       color_map=dict(zip(SERIES, ("#2563eb", "#f97316"))), y_lim=[0, None], elem_id="loss-plot",
                       x_title="training step", y_title="loss", color_title="curve")
    run_state = gr.Textbox(visible=False)
    timer = gr.Timer(2.0)
    fields = [root, base_model, preset, epochs, max_steps, learning_rate, lora_rank]
    check.click(on_plan, fields, [plan], api_name="train_plan")
    preset.input(on_preset, [root, base_model, preset, epochs, learning_rate, lora_rank], [epochs, learning_rate, lora_rank],
                 api_visibility="private")
    for number in (epochs, learning_rate, lora_rank):
        number.input(lambda: "custom", None, [preset], api_visibility="private", show_progress="hidden")
    buttons = [start, resume, stop]
    run_state.change(controls, [root], buttons, api_visibility="private", show_progress="hidden")
    started = start.click(on_start, fields, [status, plot], api_name="train_start",
                          concurrency_limit=1, concurrency_id="train_start")
    resumed = resume.click(on_resume, [root], [status, plot], api_name="train_resume",
                           concurrency_limit=1, concurrency_id="train_start")
    for event in (started, resumed, stop.click(on_stop, [root], [status], api_name="train_stop")):
        event.then(controls, [root], buttons, api_visibility="private", show_progress="hidden")
    timer.tick(poll, [root], [status, plot, run_state], api_name="train_poll", show_progress="hidden")
    return {"refresh": (poll, [root], [status, plot, run_state]), "state": run_state, "reset": [plan],
            "settings": (settings, [root], [base_model, preset, epochs, max_steps, learning_rate, lora_rank]),
            "changed": [started, resumed]}
