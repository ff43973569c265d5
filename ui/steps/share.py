"""Step 5, Share: start a password-protected, chat-only demo of the tuned model."""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import gradio as gr

from builder.project import Project
from builder.storage import read_json
from builder.workflow import latest_adapter

from ..errors import friendly

INFO_FILE = "share.json"


@friendly
def on_start(password: str, public: bool, port: float, root: str):
    project = Project.open(Path(root))
    adapter = latest_adapter(project)
    if adapter is None:
        raise gr.Error("Train a model first (step 3).")
    if len(password) < 8:
        raise gr.Error("Choose a password of at least 8 characters.")
    stop_demo(project)
    info = project.root / INFO_FILE
    cmd = [sys.executable, "-m", "ui.demo", "--project", str(project.root), "--adapter", str(adapter),
           "--port", str(int(port)), "--info-file", str(info)] + (["--share"] if public else [])
    subprocess.Popen(cmd, env={**os.environ, "DAB_DEMO_PASSWORD": password}, start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=(project.root / "share.log").open("ab"))
    for _ in range(240):
        if info.exists():
            return describe(read_json(info))
        time.sleep(0.5)
    raise gr.Error("The demo did not start within 2 minutes; see share.log in the project folder.")


def describe(info: dict) -> str:
    lines = [f"Demo running at {info['local_url']} (user `demo`, your password)."]
    if info.get("share_url"):
        lines.append(f"Public link: {info['share_url']}")
    if info.get("note"):
        lines.append(f"Note: {info['note']}")
    return "\n\n".join(lines)


def stop_demo(project: Project) -> bool:
    info = read_json(project.root / INFO_FILE)
    if not info:
        return False
    try:
        os.kill(int(info["pid"]), signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    (project.root / INFO_FILE).unlink(missing_ok=True)
    return True


@friendly
def on_stop(root: str):
    stopped = stop_demo(Project.open(Path(root)))
    return "Sharing stopped." if stopped else "No demo was running."


def build(root: gr.State) -> dict:
    gr.Markdown("### 5 · Share\nStart a separate demo app that only offers a chat with your tuned "
                "model, protected by a password. Nothing else of this wizard is reachable through it.")
    with gr.Row():
        password = gr.Textbox(secrets.token_urlsafe(9), label="Password (user: demo)")
        public = gr.Checkbox(False, label="Create a public link (needs internet)")
        port = gr.Number(7861, label="Port", precision=0)
    with gr.Row():
        start = gr.Button("Start demo", variant="primary")
        stop = gr.Button("Stop sharing", variant="stop")
    status = gr.Markdown()
    start.click(on_start, [password, public, port, root], [status])
    stop.click(on_stop, [root], [status])
    return {}
