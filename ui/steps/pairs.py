"""Step 2, Pairs: generate question/answer pairs, then review, move, filter, add and download them.

A generation adds to the pairs already there; replacing the unreviewed ones is a choice that
asks first, saying how many will go. The review table edits questions and answers; a clicked
row shows its pair with the passage it comes from (evidence highlighted) and buttons to accept,
reject, or move it between training and evaluation. Every action first saves the table's
unsaved edits (all or nothing, ``review.apply_edits``), and any refusal or failure is a message:
the table keeps what the person typed and no component breaks. The coverage view
(``coverage``) names what no pair covers yet.
"""

from pathlib import Path

import gradio as gr

from builder.dataset import FORMATS, export_pairs
from builder.errors import BuilderError
from builder.pairs import (PairFilter, add_manual_pair, apply_edits, bulk_set_status, format_report, generate_pairs,
                           load_report, move_pairs, set_status, shown_values, unreviewed_count)
from builder.pairs.overview import WRITTEN_BY_YOU, pair_source, pair_uses
from builder.pairs.progress import GenerationProgress
from builder.project import Project
from builder.records import STATUSES, Pair
from builder.runs import chat_settings
from builder.templates import list_domains

from . import coverage, teacher
from .pair_views import (COLUMN_WIDTHS, COLUMNS, DATATYPES, STATIC_COLUMNS, keep_on_error, pair_html, review_rows,
                         selected_id, table_rows)

ALL = "all"
PAGE_OUTPUTS = 9  # table, counts, source choices, base, report, and the four of ``coverage``
USE_NAMES = {"train": "training", "eval": "evaluation"}


def selection(status: str, min_score: float, source: str) -> PairFilter:
    """The filter the page shows (also what the bulk buttons act on)."""
    return PairFilter(status=None if status in (ALL, None) else status,
                      source_id=None if source in (ALL, None) else source,
                      min_grounding=float(min_score) if min_score else None)


def shown_pairs(project: Project, pairs: list[Pair], status: str, min_score: float,
                source: str) -> list[tuple[Pair, str]]:
    """The pairs that pass the filters, each with the name of its source document."""
    names = {s.id: s.original_name for s in project.sources()}
    chunk_sources = {c.id: c.source_id for c in project.chunks()}
    chosen = selection(status, min_score, source)
    return [(p, names.get(chunk_sources.get(p.chunk_id), WRITTEN_BY_YOU))
            for p in pairs if chosen.matches(p, chunk_sources)]


def counts(pairs: list[Pair], uses: dict[str, str]) -> str:
    by_status = {s: sum(p.status == s for p in pairs) for s in STATUSES}
    parts = ", ".join(f"{n} {s}" for s, n in by_status.items() if n)
    training = sum(use == "training" for use in uses.values())
    evaluation = sum(use == "evaluation" for use in uses.values())
    return (f"**{len(pairs)} pairs** ({parts or 'none yet'}): {training} for training, {evaluation} held out for "
            "evaluation. Rejected pairs are left out of both.")


def page(project: Project, status: str, min_score: float, source: str) -> tuple:
    """Everything the step shows of the pairs (``PAGE_OUTPUTS`` values): the table, counts, the
    source filter's choices, what the table shows of each pair (the base its save is checked
    against), the reconciliation report, and the coverage view."""
    pairs = project.pairs()
    uses = pair_uses(pairs, project.load_config().pairs)
    shown = shown_pairs(project, pairs, status, min_score, source)
    sources = [ALL] + [(s.original_name, s.id) for s in project.sources()]
    known = {ALL} | {s.id for s in project.sources()}
    report = load_report(project)
    return (table_rows(shown, uses), counts(pairs, uses),
            gr.Dropdown(choices=sources, value=source if source in known else ALL),
            {p.id: shown_values(p) for p, _ in shown},
            format_report(report) if report else "No report yet: generate pairs first.",
            *coverage.view(project, pairs, uses))


def saved_first(root: str, table, base: dict) -> tuple[Project, int]:
    """The project, after saving the table's unsaved edits (refused whole when a row is wrong)."""
    project = Project.open(Path(root))
    return project, apply_edits(project, review_rows(table, base))


def edits_note(changed: int) -> str:
    return f" Your {changed} unsaved edit(s) were saved too." if changed else ""


def generate(project: Project, replace: bool, progress) -> str:
    """Run the configured generator; the line that says what it did, or why it failed (then the
    project's pairs are as they were)."""
    project_cfg = project.load_config()
    progress(0.0, desc=f"Starting the {project_cfg.pairs.generator} generator")
    tracker = GenerationProgress(on_change=lambda t: progress(t.fraction, desc=t.line()))
    try:
        summary = generate_pairs(project, project_cfg.pairs, progress=tracker.update, replace=replace)
    except BuilderError as exc:
        gr.Warning(f"No pairs generated: {exc}")
        return f"❌ {str(exc).rstrip('.')}. Your pairs were not changed."
    replaced = f", {summary['replaced']} unreviewed pairs replaced" if replace else ""
    return (f"✅ {summary['new']} new pairs ({summary['pairs']} in all{replaced}) from {summary['chunks']} passages; "
            f"{summary['chunks_without_pairs']} passage(s) without a pair.")


def save_generator(root: str, generator: str, teacher_model: str, base_url: str, api_model: str,
                   api_key_env: str, domain: str) -> Project:
    project = teacher.save_teacher(root, generator, teacher_model, base_url, api_model, api_key_env)
    project_cfg = project.load_config()
    project_cfg.pairs.domain = domain
    project.save_config(project_cfg)
    return project


@keep_on_error(PAGE_OUTPUTS + 3)
def on_generate(generator: str, teacher_model: str, base_url: str, api_model: str, api_key_env: str, domain: str,
                root: str, status: str, min_score: float, source: str, table, base: dict, replace: bool = False,
                progress=gr.Progress()):
    """Generate (adding to the pairs), or, with ``replace``, first ask: say how many unreviewed
    pairs would go. Outputs: the page, the confirmation box and its text, the message."""
    project, changed = saved_first(root, table, base)
    project = save_generator(root, generator, teacher_model, base_url, api_model, api_key_env, domain)
    going = unreviewed_count(project.pairs()) if replace else 0
    if going:
        reviewed = len(project.pairs()) - going
        ask = (f"**Replace {going} unreviewed pairs?** They are the pairs nobody edited, accepted, rejected or "
               f"moved; your {reviewed} reviewed pairs stay. New pairs are generated in their place.")
        return (*[gr.skip()] * PAGE_OUTPUTS, gr.Group(visible=True), ask, edits_note(changed).strip())
    message = generate(project, False, progress)
    return (*page(project, status, min_score, source), gr.Group(visible=False), "", message + edits_note(changed))


@keep_on_error(PAGE_OUTPUTS + 3)
def on_confirm_replace(root: str, status: str, min_score: float, source: str, table, base: dict,
                       progress=gr.Progress()):
    """The person confirmed: replace the unreviewed pairs with a new generation."""
    project, changed = saved_first(root, table, base)
    message = generate(project, True, progress)
    return (*page(project, status, min_score, source), gr.Group(visible=False), "", message + edits_note(changed))


def on_cancel_replace():
    return gr.Group(visible=False), "Nothing was replaced."


@keep_on_error(PAGE_OUTPUTS + 1)
def on_save(root: str, status: str, min_score: float, source: str, table, base: dict):
    """Apply the edited table against what it showed when loaded (all or nothing)."""
    project, changed = saved_first(root, table, base)
    return (*page(project, status, min_score, source), f"✅ {changed} change(s) saved.")


@keep_on_error(PAGE_OUTPUTS + 1)
def on_reload(root: str, status: str, min_score: float, source: str):
    """Show the pairs as saved (unsaved edits in the table are dropped: the button says so)."""
    return (*page(Project.open(Path(root)), status, min_score, source), "Showing the pairs as saved.")


def bulk(new_status: str):
    @keep_on_error(PAGE_OUTPUTS + 1)
    def on_bulk(root: str, status: str, min_score: float, source: str, table, base: dict):
        project, changed = saved_first(root, table, base)
        count = bulk_set_status(project, new_status, selection(status, min_score, source))
        return (*page(project, status, min_score, source), f"✅ {count} pair(s) set to {new_status}." + edits_note(changed))
    return on_bulk


@keep_on_error(PAGE_OUTPUTS + 1)
def on_filter(root: str, status: str, min_score: float, source: str, table, base: dict):
    """Show the pairs the filters pick (after saving the table's edits, so none is lost)."""
    project, changed = saved_first(root, table, base)
    return (*page(project, status, min_score, source), edits_note(changed).strip())


def pair_detail(project: Project, pair_id: str) -> str:
    pair = next((p for p in project.pairs() if p.id == pair_id), None)
    use = pair_uses(project.pairs(), project.load_config().pairs).get(pair_id, "") if pair else ""
    return pair_html(pair, use, pair_source(project, pair) if pair else None)


@keep_on_error(2)
def on_select(table, root: str, evt: gr.SelectData):
    """A clicked row: its pair id, and the pair with its source passage."""
    index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    pair_id = selected_id(table, index)
    return pair_id, pair_detail(Project.open(Path(root)), pair_id)


def pair_action(change, done: str):
    """A handler that applies ``change(project, [pair id])`` to the selected pair (after saving the table)."""
    @keep_on_error(PAGE_OUTPUTS + 2)
    def on_action(pair_id: str, root: str, status: str, min_score: float, source: str, table, base: dict):
        if not pair_id:
            raise gr.Error("Click a pair in the table first.")
        project, changed = saved_first(root, table, base)
        change(project, [pair_id])
        return (*page(project, status, min_score, source), pair_detail(project, pair_id),
                f"✅ {done}." + edits_note(changed))
    return on_action


@keep_on_error(PAGE_OUTPUTS + 5)
def on_add(question: str, answer: str, passage: str, root: str, status: str, min_score: float, source: str,
           table, base: dict):
    """Add the person's pair (grounded in ``passage`` when the form was opened for one); it trains."""
    project, changed = saved_first(root, table, base)
    add_manual_pair(project, question or "", answer or "", chunk_id=passage or None)
    return (*page(project, status, min_score, source), "", "", "", coverage.NO_PASSAGE,
            "✅ Pair added: it is used for training." + edits_note(changed))


@keep_on_error(2)
def on_download(fmt: str, root: str):
    """Export the pairs that go into training, in ``fmt``, into the project's exports folder."""
    from builder.pairs import training_pairs

    project = Project.open(Path(root))
    pairs = training_pairs(project.pairs())
    if not pairs:
        raise gr.Error("No pairs to download yet: generate pairs first.")
    path = project.root / "exports" / f"pairs-{fmt}.jsonl"
    export_pairs(pairs, path, fmt, chat_settings(project.load_config()).system_prompt)
    return str(path), ""


def settings(root: str) -> tuple:
    """The saved generator, teacher and domain settings (page load)."""
    return (*teacher.settings(root), Project.open(Path(root)).load_config().pairs.domain)


def refresh(root: str):
    return (*page(Project.open(Path(root)), ALL, 0.0, ALL), "")


PAIR_ACTIONS = {  # button label, the change, what the message says after it
    "accept": ("Accept", lambda project, ids: set_status(project, ids, "accepted"), "Accepted"),
    "reject": ("Reject", lambda project, ids: set_status(project, ids, "rejected"), "Rejected"),
    "train": ("Use for training", lambda project, ids: move_pairs(project, ids, "train"), "Now used for training"),
    "eval": ("Use for evaluation", lambda project, ids: move_pairs(project, ids, "eval"), "Now held out for evaluation"),
}

ACTION_VARIANTS = {"accept": "primary", "reject": "stop"}  # the others are plain (secondary) buttons


def build_generation(root: gr.State) -> dict:
    """Teacher, domain, the replace choice, Generate, and the confirmation box replacing opens."""
    with gr.Group():
        w = {"teacher": teacher.build(root)}
        w["domain"] = gr.Dropdown(list_domains(), value="general", label="Domain preset",
                                  info="The style of questions and answers")
        w["replace"] = gr.Checkbox(False, label="Replace unreviewed pairs", elem_id="pairs-replace",
                                   info="Off: new pairs are added to yours. On: pairs nobody reviewed are replaced "
                                        "(you confirm first).")
        w["generate"] = gr.Button("Generate pairs", variant="primary", elem_id="pairs-generate")
        with gr.Group(visible=False, elem_id="pairs-confirm") as w["confirm_box"]:
            w["confirm_text"] = gr.Markdown(elem_id="pairs-confirm-text")
            with gr.Row():
                w["confirm"] = gr.Button("Replace them and generate", variant="stop", elem_id="pairs-confirm-replace")
                w["cancel"] = gr.Button("Keep them", elem_id="pairs-cancel-replace")
        w["generated"] = gr.Markdown(elem_id="pairs-generated")
    return w


def build_review() -> dict:
    """Counts, filters, the table and its buttons, the message line, and the clicked pair's panel."""
    w = {"counts": gr.Markdown()}
    with gr.Row():
        w["status"] = gr.Dropdown([ALL, *STATUSES], value=ALL, label="Show status")
        w["min_score"] = gr.Slider(0, 1, value=0, step=0.05, label="Minimum grounding score")
        w["source"] = gr.Dropdown([ALL], value=ALL, label="Source document", allow_custom_value=True)
    w["table"] = gr.Dataframe(headers=COLUMNS, label="Pairs (edit a question or answer, then save; click a row for more)",
                              interactive=True, wrap=True, elem_id="pairs-table", max_height=420,
                              static_columns=STATIC_COLUMNS, column_widths=COLUMN_WIDTHS, datatype=DATATYPES)
    with gr.Row():
        w["save"] = gr.Button("Save my edits", variant="primary", elem_id="pairs-save")
        w["reload"] = gr.Button("Discard my edits", elem_id="pairs-reload")
        w["accept_all"] = gr.Button("Accept all shown")
        w["reject_all"] = gr.Button("Reject all shown")
    w["notice"] = gr.Markdown(elem_id="pairs-notice")
    w["detail"] = gr.HTML(pair_html(None, "", None), elem_id="pairs-detail")
    with gr.Row():  # outside a Group, whose flat style made the buttons read as plain text
        w["actions"] = {name: gr.Button(label, size="sm", variant=ACTION_VARIANTS.get(name, "secondary"),
                                        elem_id=f"pair-{name}") for name, (label, _, _) in PAIR_ACTIONS.items()}
    w["chosen"] = gr.Textbox(visible=False, elem_id="pairs-chosen")  # the clicked pair's id
    return w


def build_add_and_download() -> dict:
    """The add-a-pair form (a passage chosen in the coverage view shows at its top), then downloads."""
    with gr.Accordion("Add a pair of your own", open=False) as add_box:
        w = {"add_box": add_box, "passage_view": gr.HTML(coverage.NO_PASSAGE, elem_id="pairs-add-passage"),
             "passage": gr.Textbox(visible=False),  # the chunk id the pair is written for ("" for none)
             "question": gr.Textbox(label="Question", elem_id="pairs-add-question"),
             "answer": gr.Textbox(label="Answer", lines=3, elem_id="pairs-add-answer"), "add": gr.Button("Add pair")}
    with gr.Accordion("Download and reconciliation report", open=False):
        with gr.Row():
            w["format"] = gr.Dropdown(list(FORMATS), value=FORMATS[0], label="Dataset format")
            w["download"] = gr.Button("Prepare download")
            w["file"] = gr.File(label="Dataset", interactive=False)
        w["report"] = gr.Code(label="Every passage: pairs kept and dropped, and why", language=None, lines=12)
    return w


def build(root: gr.State) -> dict:
    gr.Markdown("### 2 · Question/answer pairs\nEach pair is a question a user might ask, answered from "
                "one passage of your documents. Check them: fix the wording in the table, click a row to see "
                "its passage and to accept, reject or move it, or add your own. **Next:** the model learns "
                "from the pairs used for training; those held out test it.")
    w = {**build_generation(root), **build_review()}
    cover = coverage.build()
    w.update(build_add_and_download())
    w["base"] = gr.State({})  # what the table showed of each pair when it was loaded
    filters = [root, w["status"], w["min_score"], w["source"]]
    shown = [w["table"], w["counts"], w["source"], w["base"], w["report"], *cover["outputs"]]
    events = wire(w, filters, shown)
    w["cancel"].click(on_cancel_replace, None, [w["confirm_box"], w["generated"]], api_visibility="private")
    w["table"].select(on_select, [w["table"], root], [w["chosen"], w["detail"]], api_visibility="private")
    cover["gaps_table"].select(coverage.on_gap, [cover["gaps"], root], [w[k] for k in (
        "question", "answer", "passage", "add_box", "passage_view")], api_visibility="private")
    w["download"].click(on_download, [w["format"], root], [w["file"], w["notice"]], api_name="download_pairs")
    return {"refresh": (refresh, [root], [*shown, w["notice"]]), "changed": events,
            "settings": (settings, [root], [*w["teacher"]["settings"], w["domain"]]),
            "reset": [w["generated"], w["file"]]}


def wire(w: dict, filters: list, shown: list) -> list:
    """The events that change pairs (each refreshes ``shown``); returns them for the progress bar."""
    current, notice = [*filters, w["table"], w["base"]], w["notice"]
    confirm_outputs = [*shown, w["confirm_box"], w["confirm_text"], w["generated"]]
    add_outputs = [*shown, w["question"], w["answer"], w["passage"], w["passage_view"], notice]
    events = [w["generate"].click(on_generate, [*w["teacher"]["fields"], w["domain"], *current, w["replace"]],
                                  confirm_outputs, api_name="generate_pairs"),
              w["confirm"].click(on_confirm_replace, current, confirm_outputs, api_name="confirm_replace"),
              w["save"].click(on_save, current, [*shown, notice], api_name="save_pairs"),
              w["reload"].click(on_reload, filters, [*shown, notice], api_name="reload_pairs"),
              w["accept_all"].click(bulk("accepted"), current, [*shown, notice], api_name="accept_shown"),
              w["reject_all"].click(bulk("rejected"), current, [*shown, notice], api_name="reject_shown"),
              w["add"].click(on_add, [w["question"], w["answer"], w["passage"], *current], add_outputs,
                             api_name="add_pair")]
    for name, button in w["actions"].items():
        _, change, done = PAIR_ACTIONS[name]
        events.append(button.click(pair_action(change, done), [w["chosen"], *current], [*shown, w["detail"], notice],
                                   api_name=f"pair_{name}"))
    for control in (w["status"], w["min_score"], w["source"]):
        control.change(on_filter, current, [*shown, notice], api_visibility="private")
    return events
