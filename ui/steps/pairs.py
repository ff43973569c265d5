"""Step 2, Pairs: generate question/answer pairs, then review, filter, edit, add and download them."""

from pathlib import Path

import gradio as gr

from builder.dataset import FORMATS, export_pairs
from builder.errors import BuilderError
from builder.pairs import (PairFilter, ReviewRow, add_manual_pair, apply_edits, bulk_set_status, format_report,
                           generate_pairs, load_report, shown_values)
from builder.pairs.progress import GenerationProgress
from builder.project import Project
from builder.records import STATUSES, Pair
from builder.runs import chat_settings
from builder.templates import list_domains

from ..errors import friendly
from . import teacher

COLUMNS = ["id", "status", "question", "answer", "grounding", "source"]
ALL = "all"


def selection(status: str, min_score: float, source: str) -> PairFilter:
    """The filter the page shows (also what the bulk buttons act on)."""
    return PairFilter(status=None if status in (ALL, None) else status,
                      source_id=None if source in (ALL, None) else source,
                      min_grounding=float(min_score) if min_score else None)


def shown_pairs(project: Project, status: str, min_score: float, source: str) -> list[tuple[Pair, str]]:
    """The pairs that pass the filters, each with the name of its source document."""
    names = {s.id: s.original_name for s in project.sources()}
    chunk_sources = {c.id: c.source_id for c in project.chunks()}
    chosen = selection(status, min_score, source)
    return [(p, names.get(chunk_sources.get(p.chunk_id), "written by you"))
            for p in project.pairs() if chosen.matches(p, chunk_sources)]


def counts(project: Project) -> str:
    pairs = project.pairs()
    by_status = {s: sum(p.status == s for p in pairs) for s in STATUSES}
    parts = ", ".join(f"{n} {s}" for s, n in by_status.items() if n)
    return f"**{len(pairs)} pairs** ({parts or 'none yet'}). Rejected pairs are left out of training."


def view(project: Project, status: str, min_score: float, source: str) -> tuple:
    """Table rows, counts, the source filter's choices, and what the table shows of each pair
    (the base its save is checked against: ``review.apply_edits``)."""
    shown = shown_pairs(project, status, min_score, source)
    table = [[p.id, p.status, p.question, p.answer, p.scores.get("grounding") or 0, source_name]
             for p, source_name in shown]
    sources = [ALL] + [(s.original_name, s.id) for s in project.sources()]
    known = {ALL} | {s.id for s in project.sources()}
    return (table, counts(project), gr.Dropdown(choices=sources, value=source if source in known else ALL),
            {p.id: shown_values(p) for p, _ in shown})


def report_text(project: Project) -> str:
    """The reconciliation report: every passage with its pairs kept and dropped, then totals."""
    report = load_report(project)
    return format_report(report) if report else "No report yet: generate pairs first."


def outputs(project: Project, status: str, min_score: float, source: str) -> tuple:
    return (*view(project, status, min_score, source), report_text(project))


@friendly
def on_generate(generator: str, teacher_model: str, base_url: str, api_model: str, api_key_env: str, domain: str,
                root: str, status: str, min_score: float, source: str, progress=gr.Progress()):
    """Save the generator settings and generate, showing passages done, pairs so far and time left.
    A failure is a message under the button; the table and the project's pairs stay as they were."""
    project = Project.open(Path(root))
    try:
        project = teacher.save_teacher(root, generator, teacher_model, base_url, api_model, api_key_env)
        project_cfg = project.load_config()
        project_cfg.pairs.domain = domain
        project.save_config(project_cfg)
        progress(0.0, desc=f"Starting the {generator} generator")
        tracker = GenerationProgress(on_change=lambda t: progress(t.fraction, desc=t.line()))
        summary = generate_pairs(project, project_cfg.pairs, progress=tracker.update)
    except BuilderError as exc:
        gr.Warning(f"No pairs generated: {exc}")
        return (*outputs(project, status, min_score, source), f"❌ {str(exc).rstrip('.')}. Your pairs were not changed.")
    message = (f"✅ {summary['pairs']} pairs from {summary['chunks']} passages "
               f"({summary['chunks_without_pairs']} passages gave no pair).")
    return (*outputs(project, status, min_score, source), message)


@friendly
def on_save(table, base: dict, root: str, status: str, min_score: float, source: str):
    """Apply the edited table against what it showed when loaded (``review.apply_edits``)."""
    project = Project.open(Path(root))
    rows = [ReviewRow(str(row[0]), str(row[1]), str(row[2]), str(row[3]), (base or {}).get(str(row[0])))
            for row in table.values.tolist()]
    changed = apply_edits(project, rows)
    gr.Info(f"{changed} change(s) saved.")
    return view(project, status, min_score, source)


def bulk(new_status: str):
    @friendly
    def on_bulk(root: str, status: str, min_score: float, source: str):
        project = Project.open(Path(root))
        changed = bulk_set_status(project, new_status, selection(status, min_score, source))
        gr.Info(f"{changed} pair(s) set to {new_status}.")
        return view(project, status, min_score, source)
    return on_bulk


@friendly
def on_add(question: str, answer: str, root: str, status: str, min_score: float, source: str):
    project = Project.open(Path(root))
    add_manual_pair(project, question or "", answer or "")
    return ("", "", *view(project, status, min_score, source))


@friendly
def on_filter(root: str, status: str, min_score: float, source: str):
    return view(Project.open(Path(root)), status, min_score, source)


@friendly
def on_download(fmt: str, root: str):
    """Export the pairs that go into training, in ``fmt``, into the project's exports folder."""
    from builder.pairs import training_pairs

    project = Project.open(Path(root))
    pairs = training_pairs(project.pairs())
    if not pairs:
        raise gr.Error("No pairs to download yet: generate pairs first.")
    path = project.root / "exports" / f"pairs-{fmt}.jsonl"
    export_pairs(pairs, path, fmt, chat_settings(project.load_config()).system_prompt)
    return str(path)


def settings(root: str) -> tuple:
    """The saved generator, teacher and domain settings (page load)."""
    return (*teacher.settings(root), Project.open(Path(root)).load_config().pairs.domain)


def refresh(root: str):
    return outputs(Project.open(Path(root)), ALL, 0.0, ALL)


def build(root: gr.State) -> dict:
    gr.Markdown("### 2 · Question/answer pairs\nEach pair is a question a user might ask, answered from "
                "one passage of your documents. Check them: edit the wording in the table, set the status "
                "to `accepted` or `rejected`, or add your own. **Next:** the model learns from them.")
    with gr.Group():
        parts = teacher.build(root)
        domain = gr.Dropdown(list_domains(), value="general", label="Domain preset",
                             info="The style of questions and answers")
        generate = gr.Button("Generate pairs", variant="primary", elem_id="pairs-generate")
        generated = gr.Markdown(elem_id="pairs-generated")
    status_md = gr.Markdown()
    with gr.Row():
        status = gr.Dropdown([ALL, *STATUSES], value=ALL, label="Show status")
        min_score = gr.Slider(0, 1, value=0, step=0.05, label="Minimum grounding score")
        source = gr.Dropdown([ALL], value=ALL, label="Source document", allow_custom_value=True)
    table = gr.Dataframe(headers=COLUMNS, label="Pairs (edit the question, answer or status, then save)",
                         interactive=True, wrap=True, elem_id="pairs-table", max_height=420,
                         column_widths=["9%", "8%", "28%", "37%", "7%", "11%"],
                         datatype=["str", "str", "str", "str", "number", "str"])
    with gr.Row():
        save = gr.Button("Save my edits", variant="primary")
        accept_all = gr.Button("Accept all shown")
        reject_all = gr.Button("Reject all shown")
    with gr.Accordion("Add a pair of your own", open=False):
        question = gr.Textbox(label="Question")
        answer = gr.Textbox(label="Answer", lines=3)
        add = gr.Button("Add pair")
    with gr.Accordion("Download and reconciliation report", open=False):
        with gr.Row():
            fmt = gr.Dropdown(list(FORMATS), value=FORMATS[0], label="Dataset format")
            download = gr.Button("Prepare download")
            file = gr.File(label="Dataset", interactive=False)
        report = gr.Code(label="Every passage: pairs kept and dropped, and why", language=None, lines=12)
    base = gr.State({})  # what the table showed of each pair when it was loaded
    filters = [root, status, min_score, source]
    shown = [table, status_md, source, base]
    events = [generate.click(on_generate, [*parts["fields"], domain, *filters], [*shown, report, generated],
                             api_name="generate_pairs"),
              save.click(on_save, [table, base, *filters], shown, api_name="save_pairs"),
              accept_all.click(bulk("accepted"), filters, shown, api_name="accept_shown"),
              reject_all.click(bulk("rejected"), filters, shown, api_name="reject_shown"),
              add.click(on_add, [question, answer, *filters], [question, answer, *shown], api_name="add_pair")]
    download.click(on_download, [fmt, root], [file], api_name="download_pairs")
    for control in (status, min_score, source):
        control.change(on_filter, filters, shown, api_visibility="private")
    return {"refresh": (refresh, [root], [*shown, report]), "changed": events,
            "settings": (settings, [root], [*parts["settings"], domain])}
