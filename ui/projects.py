"""The project bar: open, create and delete projects, all living in one projects folder.

A project is chosen by name from a list; the browser never sends a path, so handlers can only
reach folders directly inside the projects folder. The last project opened is remembered in
``<projects folder>/.last-project`` so that a reload or a restart reopens it.
"""

import re
from pathlib import Path

import gradio as gr

from builder.project import Project, list_projects, new_project
from builder.storage import atomic_write_text

from .errors import friendly

LAST_FILE = ".last-project"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def project_root(home: Path, name: str) -> Path:
    """The folder of project ``name`` inside ``home``; refuses names that could escape it."""
    name = (name or "").strip()
    if not NAME_RE.match(name) or ".." in name:
        raise gr.Error("Project names use letters, digits, spaces, '-', '_' or '.' (at most 64 characters).")
    return home / name


def remember(home: Path, name: str) -> None:
    atomic_write_text(home / LAST_FILE, name + "\n")


def last_project(home: Path) -> str | None:
    """The last project opened, if it still exists, else the first one."""
    names = list_projects(home)
    path = home / LAST_FILE
    last = path.read_text(encoding="utf-8").strip() if path.exists() else ""
    return last if last in names else (names[0] if names else None)


def build(home: Path, root: gr.State, initial: str) -> dict:
    """The bar above the steps; returns the events after which the whole page must refresh."""
    with gr.Row(equal_height=True):
        choose = gr.Dropdown(list_projects(home), value=initial, label="Project", scale=3,
                             allow_custom_value=True)  # names are checked by project_root()
        new_name = gr.Textbox(label="New project name", placeholder="e.g. support-handbook", scale=3)
        create = gr.Button("Create project", scale=1)
        delete = gr.Button("Delete project…", variant="stop", scale=1)
    with gr.Row(visible=False) as confirm_row:
        confirm_text = gr.Markdown()
        confirm = gr.Button("Yes, delete it for good", variant="stop")
        cancel = gr.Button("Cancel")

    @friendly
    def on_open(name: str):
        folder = project_root(home, name)
        Project.open(folder)
        remember(home, folder.name)
        return str(folder)

    @friendly
    def on_create(name: str):
        folder = project_root(home, name)
        if folder.exists():
            raise gr.Error(f"A project called '{folder.name}' already exists: pick it from the list.")
        new_project(folder)
        remember(home, folder.name)
        return gr.Dropdown(choices=list_projects(home), value=folder.name), "", str(folder)

    def on_ask_delete(name: str):
        return gr.Row(visible=True), (f"Delete project **{name}** and everything in it (documents, pairs, "
                                      "trained models)? This cannot be undone.")

    @friendly
    def on_delete(name: str):
        Project.open(project_root(home, name)).delete()
        names = list_projects(home)
        if not names:
            new_project(home / "default")
            names = list_projects(home)
        remember(home, names[0])
        gr.Info(f"Project '{name}' deleted.")
        return gr.Dropdown(choices=names, value=names[0]), gr.Row(visible=False), str(home / names[0])

    opened = choose.input(on_open, [choose], [root], api_name="open_project")
    created = create.click(on_create, [new_name], [choose, new_name, root], api_name="create_project")
    delete.click(on_ask_delete, [choose], [confirm_row, confirm_text], api_visibility="private")
    deleted = confirm.click(on_delete, [choose], [choose, confirm_row, root], api_name="delete_project")
    cancel.click(lambda: gr.Row(visible=False), None, [confirm_row], api_visibility="private")
    return {"choose": choose, "changed": [opened, created, deleted]}
