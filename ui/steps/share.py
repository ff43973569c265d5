"""Step 5, Share: start a password-protected, chat-only demo of the tuned model, and stop it.

The demo is a separate process (``python -m ui.demo``) that serves only a chat box; the wizard is
never reachable through it. Its URLs and process id are kept in ``share.json`` in the project.
"""

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
START_TIMEOUT_S = 120
MIN_PASSWORD_CHARS = 8


def demo_alive(info: dict | None) -> bool:
    """Whether the process in ``share.json`` is still our demo: after a reboot the same pid may
    belong to another program, which must never be signalled (checked through /proc on Linux)."""
    if not info:
        return False
    try:
        pid = int(info["pid"])
        proc = Path(f"/proc/{pid}/cmdline")
        if proc.parent.parent.is_dir():
            return b"ui.demo" in proc.read_bytes()
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError):
        return False
    return True


def describe(info: dict | None) -> str:
    if not demo_alive(info):
        return "No demo is running."
    lines = [f"**Demo running** at {info['local_url']} — user `demo`, with the password above."]
    if info.get("share_url"):
        lines.append(f"Public link: {info['share_url']} (give it only to people you trust; stop sharing when done)")
    if info.get("note"):
        lines.append(f"⚠️ {info['note']}")
    return "\n\n".join(lines)


def start_demo(project: Project, adapter: Path, password: str, public: bool, rate_per_min: int) -> dict:
    """Launch ``ui.demo`` in its own process session; wait for its info file."""
    info_path = project.root / INFO_FILE
    info_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "ui.demo", "--project", str(project.root), "--adapter", str(adapter),
           "--info-file", str(info_path), "--max-messages-per-minute", str(rate_per_min)]
    with (project.root / "share.log").open("ab") as log:
        process = subprocess.Popen(cmd + (["--share"] if public else []), start_new_session=True,
                                   env={**os.environ, "DAB_DEMO_PASSWORD": password}, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if info_path.exists():
            return read_json(info_path)
        if process.poll() is not None:
            raise gr.Error("The demo stopped while starting; see share.log in the project folder.")
        time.sleep(0.3)
    process.terminate()
    raise gr.Error(f"The demo did not start within {START_TIMEOUT_S} s; see share.log in the project folder.")


def stop_demo(project: Project) -> bool:
    """Stop the project's demo if one runs; True when one was stopped."""
    info = read_json(project.root / INFO_FILE)
    running = demo_alive(info)
    if running:
        os.kill(int(info["pid"]), signal.SIGTERM)
    (project.root / INFO_FILE).unlink(missing_ok=True)
    return running


@friendly
def on_start(password: str, public: bool, rate_per_min: float, root: str, progress=gr.Progress()):
    project = Project.open(Path(root))
    adapter = latest_adapter(project)
    if adapter is None:
        raise gr.Error("Train a model first (step 3).")
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise gr.Error(f"Choose a password of at least {MIN_PASSWORD_CHARS} characters.")
    stop_demo(project)
    progress(0.2, desc="Starting the demo app (loading the model)")
    info = start_demo(project, adapter, password, public, int(rate_per_min or 10))
    if public and not info.get("share_url"):
        gr.Warning("No public link could be made; the demo runs locally only.")
    return describe(info)


@friendly
def on_stop(root: str):
    return "Sharing stopped." if stop_demo(Project.open(Path(root))) else "No demo was running."


def refresh(root: str):
    return describe(read_json(Path(root) / INFO_FILE))


def build(root: gr.State) -> dict:
    gr.Markdown("### 5 · Share\nStart a separate demo app that offers only a chat with your tuned "
                "model, protected by a password. Nothing else of this wizard is reachable through it. "
                "Ask for a public link to share it beyond this computer (needs internet).")
    with gr.Row():
        password = gr.Textbox(lambda: secrets.token_urlsafe(9), label="Password (user name: demo)",
                              info=f"At least {MIN_PASSWORD_CHARS} characters; a random one is filled in.")
        public = gr.Checkbox(False, label="Create a public link")
        rate = gr.Number(10, label="Messages per visitor per minute", precision=0, minimum=1)
    with gr.Row():
        start = gr.Button("Start demo", variant="primary", elem_id="share-start")
        stop = gr.Button("Stop sharing", variant="stop")
    status = gr.Markdown("No demo is running.", elem_id="share-status")
    started = start.click(on_start, [password, public, rate, root], [status], api_name="share_start",
                          concurrency_limit=1)
    stopped = stop.click(on_stop, [root], [status], api_name="share_stop")
    return {"refresh": (refresh, [root], [status]), "changed": [started, stopped]}
