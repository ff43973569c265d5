"""Step 2, Pairs: generate question/answer pairs, then review, filter, edit, add and download them."""

from pathlib import Path

import gradio as gr

from builder.pairs import GENERATORS, edit_pair, generate_pairs, set_status
from builder.pairs.base import STATUSES
from builder.project import Project
from builder.workflow import add_user_pair

from ..errors import friendly

COLUMNS = ["id", "status", "question", "answer", "grounding", "source"]
ALL = "all"


def source_names(project: Project) -> dict[str, str]:
    """chunk id -> the original name of the document it came from."""
    names = {s["id"]: s["original_name"] for s in project.sources()}
    return {c["id"]: names.get(c["source_id"], "?") for c in project.chunks()}


def shown_pairs(project: Project, status: str, min_score: float, source: str) -> list[dict]:
    """The pairs that pass the filters (status, minimum grounding score, source document)."""
    by_chunk = source_names(project)
    rows = []
    for pair in project.pairs():
        pair = {**pair, "source": by_chunk.get(pair["chunk_id"], "written by you")}
        if status not in (ALL, None) and pair["status"] != status:
            continue
        if pair["scores"].get("grounding", 0) < (min_score or 0):
            continue
        if source not in (ALL, None) and pair["source"] != source:
            continue
        rows.append(pair)
    return rows


def counts(project: Project) -> str:
    pairs = project.pairs()
    by_status = {s: sum(p["status"] == s for p in pairs) for s in STATUSES}
    parts = ", ".join(f"{n} {s}" for s, n in by_status.items() if n)
    return f"**{len(pairs)} pairs** ({parts or 'none yet'}). Rejected pairs are left out of training."


def view(project: Project, status: str, min_score: float, source: str) -> tuple:
    """Table rows, counts, and the source filter's choices."""
    table = [[p["id"], p["status"], p["question"], p["answer"], p["scores"].get("grounding", 0), p["source"]]
             for p in shown_pairs(project, status, min_score, source)]
    sources = [ALL] + sorted({s["original_name"] for s in project.sources()})
    return table, counts(project), gr.Dropdown(choices=sources, value=source if source in sources else ALL)


@friendly
def on_generate(generator: str, root: str, status: str, min_score: float, source: str, progress=gr.Progress()):
    project = Project.open(Path(root))
    cfg = project.load_config()
    cfg.pairs.generator = generator
    project.save_config(cfg)
    summary = generate_pairs(project, cfg.pairs,
                             progress=lambda done, total: progress(done / total, desc="Reading passages"))
    gr.Info(f"{summary['pairs']} pairs from {summary['chunks']} passages.")
    return view(project, status, min_score, source)


@friendly
def on_save(table, root: str, status: str, min_score: float, source: str):
    """Apply the edited table: changed text becomes an edit, a changed status a judgement."""
    project = Project.open(Path(root))
    stored = {p["id"]: p for p in project.pairs()}
    for row in table.values.tolist():
        pair_id, new_status, question, answer = row[0], row[1], str(row[2]), str(row[3])
        pair = stored.get(pair_id)
        if pair is None:
            continue
        if question != pair["question"] or answer != pair["answer"]:
            edit_pair(project, pair_id, question, answer)
        elif new_status != pair["status"]:
            set_status(project, pair_id, new_status)
    gr.Info("Your changes are saved.")
    return view(project, status, min_score, source)


def bulk(new_status: str):
    @friendly
    def on_bulk(root: str, status: str, min_score: float, source: str):
        project = Project.open(Path(root))
        for pair in shown_pairs(project, status, min_score, source):
            set_status(project, pair["id"], new_status)
        return view(project, status, min_score, source)
    return on_bulk


@friendly
def on_add(question: str, answer: str, root: str, status: str, min_score: float, source: str):
    project = Project.open(Path(root))
    add_user_pair(project, question, answer)
    return ("", "", *view(project, status, min_score, source))


@friendly
def on_filter(root: str, status: str, min_score: float, source: str):
    return view(Project.open(Path(root)), status, min_score, source)


def refresh(root: str):
    return view(Project.open(Path(root)), ALL, 0.0, ALL)


def build(root: gr.State) -> dict:
    gr.Markdown("### 2 · Question/answer pairs\nEach pair is a question a user might ask, answered from "
                "one passage of your documents. Check them: edit the wording in the table, set the status "
                "to `accepted` or `rejected`, or add your own. **Next:** the model learns from them.")
    with gr.Row():
        generator = gr.Dropdown(sorted(GENERATORS), value="rules", label="Generator",
                                info="'rules' works offline and instantly")
        generate = gr.Button("Generate pairs", variant="primary")
    status_md = gr.Markdown()
    with gr.Row():
        status = gr.Dropdown([ALL, *STATUSES], value=ALL, label="Show status")
        min_score = gr.Slider(0, 1, value=0, step=0.05, label="Minimum grounding score")
        source = gr.Dropdown([ALL], value=ALL, label="Source document", allow_custom_value=True)
    table = gr.Dataframe(headers=COLUMNS, label="Pairs (edit the question, answer or status, then save)",
                         interactive=True, wrap=True, elem_id="pairs-table", max_height=420,
                         datatype=["str", "str", "str", "str", "number", "str"])
    with gr.Row():
        save = gr.Button("Save my edits", variant="primary")
        accept_all = gr.Button("Accept all shown")
        reject_all = gr.Button("Reject all shown")
    with gr.Accordion("Add a pair of your own", open=False):
        question = gr.Textbox(label="Question")
        answer = gr.Textbox(label="Answer", lines=3)
        add = gr.Button("Add pair")
    filters = [root, status, min_score, source]
    shown = [table, status_md, source]
    events = [generate.click(on_generate, [generator, *filters], shown, api_name="generate_pairs"),
              save.click(on_save, [table, *filters], shown, api_name="save_pairs"),
              accept_all.click(bulk("accepted"), filters, shown, api_name="accept_shown"),
              reject_all.click(bulk("rejected"), filters, shown, api_name="reject_shown"),
              add.click(on_add, [question, answer, *filters], [question, answer, *shown], api_name="add_pair")]
    for control in (status, min_score, source):
        control.change(on_filter, filters, shown, api_visibility="private")
    return {"refresh": (refresh, [root], shown), "changed": events, "filters": (status, min_score, source)}
