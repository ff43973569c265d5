"""Pairs from elsewhere, and the pairs to the Hugging Face Hub: a panel under the Pairs step.

    parts = datasets.build(root)      # the app mounts it at the bottom of step 2

Import reads a JSON or JSON Lines file in the OpenAI messages, Alpaca or ShareGPT format (the
formats the Pairs step downloads; ``builder.dataset.import_into_project``, like ``dab dataset
import``); pairs already in the project are not added twice, and a bad row refuses the whole
file with its row number, so nothing half-imported is left. Push uploads the pairs training
would use (never rejected ones) with their held-out split, as ``dab dataset push`` does,
using the token in ``$HF_TOKEN`` of the terminal that runs the wizard.
"""

import re
from pathlib import Path

import gradio as gr

from builder.dataset import FORMATS, import_into_project, push_to_hub
from builder.pairs import training_pairs
from builder.project import Project
from builder.runs import chat_settings

from .errors import friendly

DETECT = "detect"
REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")


@friendly
def on_import(file: str | None, fmt: str, root: str) -> tuple:
    if not file:
        raise gr.Error("Choose a .jsonl or .json file of question/answer pairs first.")
    added, total = import_into_project(Project.open(Path(root)), Path(file), None if fmt == DETECT else fmt)
    return (f"**{added} new pairs imported** from {Path(file).name}"
            f" ({total - added} were already in the project). They are in the table above."), None


@friendly
def on_push(repo_id: str, private: bool, root: str, progress=gr.Progress()) -> str:
    repo_id = (repo_id or "").strip()
    if not REPO_ID_RE.match(repo_id):
        raise gr.Error("Name the dataset as owner/name, e.g. my-team/support-pairs.")
    project = Project.open(Path(root))
    project_cfg = project.load_config()
    pairs = training_pairs(project.pairs())
    if not pairs:
        raise gr.Error("There are no pairs to push yet: generate or import some first.")
    progress(0.2, desc=f"Uploading {len(pairs)} pairs to the Hugging Face Hub")
    url = push_to_hub(pairs, repo_id, project_cfg.pairs, private=bool(private),
                      system_prompt=chat_settings(project_cfg).system_prompt)
    return f"**Pushed {len(pairs)} pairs** to [{url}]({url}) ({'private' if private else 'public'})."


def build(root: gr.State) -> dict:
    """The panel; returns the import event (after which the pairs table reloads)."""
    with gr.Accordion("Import pairs you already have, or push them to the Hugging Face Hub", open=False,
                      elem_id="datasets-panel"):
        with gr.Row(equal_height=True):
            file = gr.File(label="Pairs file (.jsonl or .json)", file_types=[".jsonl", ".json"], height=120, scale=3)
            fmt = gr.Dropdown([DETECT, *FORMATS], value=DETECT, label="Format", scale=1,
                              info="OpenAI messages, Alpaca or ShareGPT; detected from the first row")
            load = gr.Button("Import pairs", scale=1)
        imported_md = gr.Markdown(elem_id="datasets-imported")
        with gr.Row(equal_height=True):
            repo = gr.Textbox(label="Hub dataset", placeholder="owner/name", scale=3,
                              info="Needs a write token in HF_TOKEN where the wizard runs, and internet")
            private = gr.Checkbox(True, label="Private", scale=1)
            push = gr.Button("Push to the Hub", scale=1)
        pushed_md = gr.Markdown(elem_id="datasets-pushed")
    imported = load.click(on_import, [file, fmt, root], [imported_md, file], api_name="import_pairs")
    push.click(on_push, [repo, private, root], [pushed_md], api_name="push_pairs", concurrency_limit=1)
    return {"changed": [imported], "reset": [imported_md, pushed_md]}
