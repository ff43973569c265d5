"""The report card of step 4: a verdict in plain words, one small chart per measure, the table,
what each measure means, every question, and the report to download (Markdown and JSON).

    parts = report.build(root)        # inside the Evaluate & Chat tab
    report.views(root)                # the newest trained run's report, as the widgets show it

The Evaluate button says what it will do, or why it cannot (no trained model yet, no questions
held out of training). An evaluation runs for the project it was started in and saves its report
there; when it ends, the widgets show the report of the project open *then*, so switching project
during an evaluation never paints one project's report over another's.
"""

from pathlib import Path

import gradio as gr
import pandas as pd

from builder.eval_report import MEASURES, MODES, SET_NAMES, base_model_note, report_files, verdict
from builder.eval_sets import evaluation_sets
from builder.evaluate import evaluate_run
from builder.project import Project
from builder.runs import Run, newest_trained_run

from .engines import get_engine
from .errors import friendly

MODELS = ("base", "tuned")
CHARTS = ("fact_accuracy", "token_f1", "abstained")  # shares (0..1), shown as percentages
SHORT_MODES = {"closed": "memory", "open": "documents"}
BAR_ORDER = [f"{who} · {mode}" for mode in SHORT_MODES.values() for who in MODELS]
TABLE_COLUMNS = ["questions", "answers", "measure", "original", "tuned"]
QUESTION_COLUMNS = ["set", "question", "reference", "base_closed", "tuned_closed", "base_open", "tuned_open"]
EVALUATE = "Evaluate on held-out questions"
NO_MODEL = "Evaluate (train a model first, in step 3)"
NO_QUESTIONS = "No held-out questions: add pairs in step 2 and train again (a share is kept out of training)"
NO_REPORT = "No report yet: press the button to ask both models questions kept out of training."
GLOSSARY = "**What the measures mean**\n\n" + "\n".join(f"- **{label}**: {meaning}." for label, meaning in
                                                        MEASURES.values())


def chart_frame(report: dict | None, measure: str) -> pd.DataFrame:
    """Four bars (original and tuned, from memory and reading) of one measure on the headline set,
    in percent; an empty chart keeps one NaN row per model."""
    name = (report or {}).get("headline", {}).get("set") or next(iter((report or {}).get("results", {})), None)
    result = (report or {}).get("results", {}).get(name)
    rows = [{"bar": f"{who} · {SHORT_MODES[mode]}", "model": who, "percent": round(100 * value, 1)}
            for mode in MODES for who in MODELS
            if result and (value := result[mode][who].get(measure)) is not None]
    rows = rows or [{"bar": "", "model": who, "percent": float("nan")} for who in MODELS]
    return pd.DataFrame(rows, columns=["bar", "model", "percent"])


def table_frame(report: dict) -> pd.DataFrame:
    """Every set, mode and measure in plain words: original vs tuned."""
    rows = [[SET_NAMES.get(name, name), MODES[mode], label, result[mode]["base"].get(key), result[mode]["tuned"].get(key)]
            for name, result in report["results"].items() for mode in MODES
            for key, (label, _) in MEASURES.items() if result[mode]["tuned"].get(key) is not None]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def evaluate_button(project: Project, run: Run | None) -> gr.Button:
    """Enabled with questions to ask; otherwise its label says how to get some."""
    if run is None:
        return gr.Button(NO_MODEL, interactive=False)
    sets = evaluation_sets(project, run, unanswerable=[])
    if not (sets.recall or sets.unseen):
        return gr.Button(NO_QUESTIONS, interactive=False)
    return gr.Button(EVALUATE, interactive=True)


def downloads(run: Run | None) -> tuple:
    """The Markdown and JSON download buttons, shown only when there is a report."""
    files = report_files(run) if run else None
    if files is None:
        return gr.DownloadButton(value=None, visible=False), gr.DownloadButton(value=None, visible=False)
    return tuple(gr.DownloadButton(value=str(path), visible=True) for path in files)


def summary(report: dict | None, run: Run | None, project: Project) -> str:
    """The verdict, and a warning when the project's base model changed since the run trained."""
    if not report or "results" not in report:
        return NO_REPORT
    note = base_model_note(run, project.load_config()) if run else ""
    return verdict(report) + (f"\n\n⚠️ {note}" if note else "")


def views(root: str) -> tuple:
    """Button, verdict, downloads, table, charts, questions: the newest trained run's report."""
    project = Project.open(Path(root))
    run = newest_trained_run(project)
    report = run.eval_report() if run else None
    has = bool(report and "results" in report)
    table = table_frame(report) if has else pd.DataFrame(columns=TABLE_COLUMNS)
    questions = pd.DataFrame([{k: row.get(k) for k in QUESTION_COLUMNS} for row in report.get("questions", [])]
                             if has else [], columns=QUESTION_COLUMNS)
    charts = [chart_frame(report if has else None, measure) for measure in CHARTS]
    return (evaluate_button(project, run), summary(report, run, project), *downloads(run), table, *charts,
            questions)


@friendly
def on_evaluate(root: str, progress=gr.Progress()) -> str:
    """Ask both models the held-out questions of this project's newest run; the report is saved there."""
    progress(0.02, desc="Loading the models")
    project = Project.open(Path(root))
    project_cfg = project.load_config()
    run = newest_trained_run(project)
    if run is None:
        raise gr.Error("Train a model first (step 3).")
    sets = evaluation_sets(project, run, unanswerable=[])
    if not (sets.recall or sets.unseen):
        raise gr.Error(f"{NO_QUESTIONS}.")
    evaluate_run(get_engine(run, project_cfg), project, project_cfg, run,
                 on_progress=lambda fraction, message: progress(fraction, desc=message))
    gr.Info(f"Evaluation of project {project.root.name} finished.")
    return f"Evaluation of project **{project.root.name}** finished."


def build(root: gr.State) -> dict:
    """The report card; returns its refresh (views), and the evaluation event."""
    evaluate = gr.Button(EVALUATE, elem_id="evaluate")
    verdict_md = gr.Markdown(NO_REPORT, elem_id="report-verdict")
    with gr.Row():
        markdown_file = gr.DownloadButton("Download the report (Markdown)", visible=False, size="sm",
                                          elem_id="report-md")
        json_file = gr.DownloadButton("Download the report (JSON)", visible=False, size="sm", elem_id="report-json")
    with gr.Row():
        charts = [gr.BarPlot(chart_frame(None, measure), x="bar", y="percent", color="model", y_lim=[0, 100],
                             title=f"{MEASURES[measure][0].capitalize()} (%)", height=250, min_width=300,
                             sort=BAR_ORDER, x_label_angle=-20,
                             color_map={"base": "#9ca3af", "tuned": "#2563eb"}, x_title=" ", y_title="%",
                             show_label=False, elem_id=f"chart-{measure}", elem_classes=["report-chart"])
                  for measure in CHARTS]
    table = gr.Dataframe(label="Report card (original vs tuned)", interactive=False, wrap=True,
                         elem_id="report-table")
    gr.Markdown(GLOSSARY, elem_id="report-glossary")
    with gr.Accordion("Every held-out question: reference, both answers, scores", open=False):
        questions = gr.Dataframe(interactive=False, wrap=True, max_height=400)
    outputs = [evaluate, verdict_md, markdown_file, json_file, table, *charts, questions]
    evaluated = evaluate.click(on_evaluate, [root], [verdict_md], api_name="evaluate", show_progress_on=[verdict_md])
    shown = evaluated.then(views, [root], outputs, api_name="report")  # the project open now, not then
    return {"views": (views, [root], outputs), "changed": [shown]}
