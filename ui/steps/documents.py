"""Step 1, Documents: upload files and see what was read from each."""

from pathlib import Path

import gradio as gr

from builder.ingest import SUPPORTED_SUFFIXES
from builder.project import Project
from builder.workflow import ingest_and_chunk

from ..errors import friendly

REPORT_COLUMNS = ["file", "status", "pages", "characters", "headings", "notes"]


def source_table(project: Project) -> list[list]:
    """Rows for every stored document, from ``sources.jsonl``."""
    rows = []
    for src in project.sources():
        rep = src.get("report", {})
        rows.append([src["original_name"], rep.get("status", "ok"), rep.get("pages", 0),
                     rep.get("chars", 0), rep.get("headings", 0), "; ".join(rep.get("warnings", []))])
    return rows


def summary(project: Project) -> str:
    chunks = project.chunks()
    return f"**{len(project.sources())} documents, {len(chunks)} passages** ready for the next step."


@friendly
def on_upload(files: list[str] | None, root: str):
    if not files:
        raise gr.Error("Choose one or more files first.")
    project = Project.open(Path(root))
    reports, _ = ingest_and_chunk(project, [Path(f) for f in files])
    failed = [r for r in reports if r["status"] == "error"]
    for r in failed:
        gr.Warning(f"{r['name']}: {r['error']}")
    return source_table(project), summary(project), None


def refresh(root: str):
    project = Project.open(Path(root))
    return source_table(project), summary(project)


def build(root: gr.State) -> dict:
    gr.Markdown("### 1 · Documents\nAdd the documents your assistant should know: PDF, Word (DOCX), "
                "HTML, Markdown or text files, or a zip of them. Next, we turn them into practice questions.")
    files = gr.File(label="Documents", file_count="multiple", file_types=SUPPORTED_SUFFIXES)
    add = gr.Button("Add documents", variant="primary")
    status = gr.Markdown()
    table = gr.Dataframe(headers=REPORT_COLUMNS, label="What was read", interactive=False, wrap=True)
    add.click(on_upload, [files, root], [table, status, files])
    return {"table": table, "status": status, "refresh": (refresh, [root], [table, status])}
