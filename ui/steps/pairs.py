"""Step 2, Pairs: generate question/answer pairs, then review and edit them."""

from pathlib import Path

import gradio as gr

from builder.pairs import GENERATORS, edit_pair, generate_pairs, set_status
from builder.project import Project

from ..errors import friendly

COLUMNS = ["id", "status", "question", "answer", "grounding"]


def pair_table(project: Project) -> list[list]:
    return [[p["id"], p["status"], p["question"], p["answer"], p["scores"].get("grounding", 0)]
            for p in project.pairs()]


def counts(project: Project) -> str:
    pairs = project.pairs()
    by_status = {s: sum(p["status"] == s for p in pairs) for s in ("pending", "accepted", "edited", "rejected")}
    parts = ", ".join(f"{n} {s}" for s, n in by_status.items() if n)
    return f"**{len(pairs)} pairs** ({parts or 'none yet'}). Rejected pairs are left out of training."


@friendly
def on_generate(generator: str, root: str, progress=gr.Progress()):
    project = Project.open(Path(root))
    cfg = project.load_config()
    cfg.pairs.generator = generator
    project.save_config(cfg)
    generate_pairs(project, cfg.pairs, progress=lambda done, total: progress(done / total, desc="Reading passages"))
    return pair_table(project), counts(project)


@friendly
def on_save(table, root: str):
    """Apply the edited table: changed text becomes an edit, a changed status a judgement."""
    project = Project.open(Path(root))
    stored = {p["id"]: p for p in project.pairs()}
    for row in table.values.tolist():
        pair_id, status, question, answer = row[0], row[1], str(row[2]), str(row[3])
        pair = stored.get(pair_id)
        if pair is None:
            continue
        if question != pair["question"] or answer != pair["answer"]:
            edit_pair(project, pair_id, question, answer)
        elif status != pair["status"]:
            set_status(project, pair_id, status)
    return pair_table(project), counts(project)


def refresh(root: str):
    project = Project.open(Path(root))
    return pair_table(project), counts(project)


def build(root: gr.State) -> dict:
    gr.Markdown("### 2 · Question/answer pairs\nEach pair is a question a user might ask, answered from "
                "one passage of your documents. Check them: edit the wording, or set the status to "
                "`accepted` or `rejected`. Next, the model learns from them.")
    with gr.Row():
        generator = gr.Dropdown(sorted(GENERATORS), value="rules", label="Generator",
                                info="'rules' works offline and instantly")
        generate = gr.Button("Generate pairs", variant="primary")
    status = gr.Markdown()
    table = gr.Dataframe(headers=COLUMNS, label="Pairs (editable)", interactive=True, wrap=True,
                         datatype=["str", "str", "str", "str", "number"])
    save = gr.Button("Save my edits")
    generate.click(on_generate, [generator, root], [table, status])
    save.click(on_save, [table, root], [table, status])
    return {"refresh": (refresh, [root], [table, status])}
