"""Step 1, Documents: upload files or zips, see what was read from each, remove a file.

Any file is accepted for upload; one that cannot be read (an unsupported type, an empty or damaged
file) gets its own row saying why, like ``dab ingest``, and the other files of the batch are kept.
"""

from pathlib import Path

import gradio as gr

from builder.documents import ingest_and_chunk, remove_document
from builder.project import Project

from ..errors import friendly

REPORT_COLUMNS = ["file", "status", "pages", "characters", "headings", "notes"]


def source_table(project: Project, failed: list[dict] = ()) -> list[list]:
    """Rows for every stored document, then the files of the last upload that failed."""
    rows = []
    for src in project.sources():
        rep = src.report or {}
        rows.append([src.original_name, rep.get("status", "ok"), rep.get("pages", 0),
                     rep.get("chars", 0), rep.get("headings", 0), "; ".join(rep.get("warnings", []))])
    rows += [[r["name"], "error", 0, 0, 0, r["error"]] for r in failed]
    return rows


def source_choices(project: Project) -> list[tuple[str, str]]:
    return [(src.original_name, src.id) for src in project.sources()]


def summary(project: Project) -> str:
    chunks = project.chunks()
    if not chunks:
        return "No documents yet."
    return f"**{len(project.sources())} documents, {len(chunks)} passages** ready for the next step (Pairs)."


def outputs(project: Project, failed: list[dict] = ()) -> tuple:
    return source_table(project, failed), summary(project), gr.Dropdown(choices=source_choices(project), value=None)


@friendly
def on_upload(files: list[str] | None, root: str, progress=gr.Progress()):
    if not files:
        raise gr.Error("Choose one or more files first.")
    project = Project.open(Path(root))
    progress(0.1, desc=f"Reading {len(files)} file(s)")
    reports, _ = ingest_and_chunk(project, [Path(f) for f in files])
    failed = [r for r in reports if r["status"] == "error"]
    for r in failed:
        gr.Warning(f"{r['name']}: {r['error']}")
    return (*outputs(project, failed), None)


@friendly
def on_remove(source_id: str | None, root: str):
    if not source_id:
        raise gr.Error("Pick the document to remove first.")
    project = Project.open(Path(root))
    remove_document(project, source_id)
    return outputs(project)


def refresh(root: str):
    return outputs(Project.open(Path(root)))


def build(root: gr.State) -> dict:
    gr.Markdown("### 1 · Documents\nAdd the documents your assistant should know: PDF, Word (DOCX), "
                "HTML, Markdown or text files, or a zip of them. We read each one and show what we "
                "found. **Next:** we turn them into practice questions and answers.")
    files = gr.File(label="Documents", file_count="multiple")  # any file: unsupported ones get a report row
    add = gr.Button("Add documents", variant="primary")
    status = gr.Markdown()
    table = gr.Dataframe(headers=REPORT_COLUMNS, label="What was read from each file", interactive=False,
                         wrap=True, elem_id="documents-table")
    with gr.Row():
        which = gr.Dropdown([], label="Remove a document", scale=3, allow_custom_value=True)
        remove = gr.Button("Remove", scale=1)
    uploaded = add.click(on_upload, [files, root], [table, status, which, files], api_name="upload")
    removed = remove.click(on_remove, [which, root], [table, status, which], api_name="remove_document")
    return {"refresh": (refresh, [root], [table, status, which]), "changed": [uploaded, removed]}
