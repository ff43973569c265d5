"""Step 5, Share: start a password-protected, chat-only demo of the tuned model, and stop it; start
an OpenAI-compatible API (``ui.serving``); or export the model (adapter zip, merged weights,
GGUF + Ollama Modelfile) to use it elsewhere.

The demo is a separate process (``python -m ui.demo``) that serves only a chat box; the wizard is
never reachable through it. Its URLs and process id are kept in ``share.json`` in the project.

Exports of the newest completed run go to ``exports/<run>/`` in the project, the folder the Pairs
step's downloads use too. The adapter zip is offered through a File component (shown only while it
holds the zip); the GGUF and its Modelfile are linked through the app's file route (the projects
folder is its allowed path), so a file of several GB is served where it lies instead of being
copied into Gradio's cache.
"""

import errno
import os
import re
import secrets
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import gradio as gr

from builder.export import export_adapter, export_merged, export_weights
from builder.processes import process_alive, spawn, stop_process, wait_ready
from builder.project import Project
from builder.runs import Run, newest_trained_run
from builder.storage import read_json

from .. import serving
from ..errors import friendly, to_gr_error

INFO_FILE = "share.json"
DEMO_MODULE = "ui.demo"
START_TIMEOUT_S = 120
MIN_PASSWORD_CHARS = 8
MAX_DESCRIPTION_CHARS = 500
EXPORTS = "exports"  # the project's downloads folder (the Pairs step writes there too)
UI_GGUF_TYPES = ("q8_0", "f16")  # of builder.export.GGUF_TYPES, the two worth offering here


def demo_alive(info: dict | None) -> bool:
    """Whether the process in ``share.json`` is still our demo: after a reboot the same pid may
    belong to another program, which must never be signalled (``processes.process_alive``)."""
    return bool(info) and process_alive(info.get("pid"), DEMO_MODULE)


def describe(info: dict | None) -> str:
    if not demo_alive(info):
        return "No demo is running."
    lines = [f"**Demo running** at {info['local_url']} — user `demo`, with the password above."]
    if info.get("share_url"):
        lines.append(f"Public link: {info['share_url']} (give it only to people you trust; stop sharing when done)")
    if info.get("note"):
        lines.append(f"⚠️ {info['note']}")
    return "\n\n".join(lines)


def start_demo(project: Project, run: Run, password: str, public: bool, rate_per_min: int, port: int = 0) -> dict:
    """Launch ``ui.demo`` for the run's model in its own process session (``port`` 0: the first
    free one from 7860; ``dab share`` starts it here too); wait for its info file."""
    info_path, log_path = project.root / INFO_FILE, project.root / "share.log"
    info_path.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", DEMO_MODULE, "--project", str(project.root), "--adapter", str(run.adapter_dir),
           "--info-file", str(info_path), "--max-messages-per-minute", str(rate_per_min), "--port", str(port)]
    process = spawn(cmd + (["--share"] if public else []), log_path, env={"DAB_DEMO_PASSWORD": password})
    return wait_ready(process, lambda: read_json(info_path) if info_path.exists() else None, "The demo",
                      log_path, START_TIMEOUT_S)


def stop_demo(project: Project) -> bool:
    """Stop the project's demo if one runs; True when one was stopped."""
    info = read_json(project.root / INFO_FILE) or {}
    stopped = stop_process(info.get("pid"), DEMO_MODULE)
    (project.root / INFO_FILE).unlink(missing_ok=True)
    return stopped


def trained_run(project: Project) -> Run:
    """The newest trained run; a plain message when there is none yet."""
    run = newest_trained_run(project)
    if run is None:
        raise gr.Error("Train a model first (step 3).")
    return run


def stop_button(running: bool) -> gr.Button:
    """"Stop sharing" can be pressed only while a demo runs."""
    return gr.Button(interactive=running)


@friendly
def on_start(password: str, public: bool, rate_per_min: float, root: str, progress=gr.Progress()):
    project = Project.open(Path(root))
    run = trained_run(project)
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise gr.Error(f"Choose a password of at least {MIN_PASSWORD_CHARS} characters.")
    stop_demo(project)
    progress(0.2, desc="Starting the demo app (loading the model)")
    info = start_demo(project, run, password, public, int(rate_per_min or 10))
    if public and not info.get("share_url"):
        gr.Warning("No public link could be made; the demo runs locally only.")
    return describe(info), stop_button(demo_alive(info))


@friendly
def on_stop(root: str):
    stopped = stop_demo(Project.open(Path(root)))
    return ("Sharing stopped." if stopped else "No demo was running."), stop_button(False)


def zip_folder(folder: Path, zip_path: Path) -> Path:
    """``folder`` as a zip archive (entries under the folder's name), written whole or not at all."""
    tmp = zip_path.with_name(f".{zip_path.name}.partial")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(folder.name) / path.relative_to(folder))
        os.replace(tmp, zip_path)
    finally:
        tmp.unlink(missing_ok=True)
    return zip_path


def size_text(path: Path) -> str:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if total >= scale:
            return f"{total / scale:.1f} {unit}"
    return f"{total / 1e3:.0f} KB"


def download_link(path: Path) -> str:
    """A Markdown link to ``path`` through the app's file route (only the projects folder is allowed)."""
    return f"[{path.name}](gradio_api/file={quote(str(path.resolve()))})"


def ollama_name(project: Project) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", project.root.name.lower()).strip("-._") or "my-assistant"


def export_error(exc: Exception) -> gr.Error:
    """A plain message for a failed export; a full disk says so and what to do."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return gr.Error("The disk is full, so the export could not be written. Free some space (merged "
                        "weights take about the base model's full-precision size) and export again.")
    return to_gr_error(exc)


def exporting(root: str, what: str, work: Callable, progress) -> Iterator[tuple]:
    """The status of one export: a line at once, then ``work(project, run, out_dir, progress)``'s
    (status, file). An error is shown in the status line in plain words, then raised for
    ``friendly`` (a pop-up, never a traceback)."""
    def failed(message: str) -> tuple:
        return f"**Export failed.** {message[:1].upper()}{message[1:]}", download_box(None)

    yield f"*{what}…*", gr.File(value=None, visible=True)  # the progress bar shows on it meanwhile
    try:
        project = Project.open(Path(root))
        run = trained_run(project)
        status, file = work(project, run, project.root / EXPORTS / run.name, progress)
        yield status, download_box(file)
    except gr.Error as exc:
        yield failed(exc.message)
        raise
    except Exception as exc:  # noqa: BLE001  (shown to the user in plain words)
        error = export_error(exc)
        yield failed(error.message)
        raise error from exc


def download_box(file: str | None) -> gr.File:
    """The download box, shown only when there is a file in it (an empty box is clutter)."""
    return gr.File(value=file, visible=file is not None)


def adapter_zip(project: Project, run: Run, out: Path, progress) -> tuple:
    project_cfg = project.load_config()
    base_model = run.base_model(project_cfg)
    progress(0.2, desc="Copying the adapter and writing its model card")
    folder = export_adapter(run, out / "adapter", project_cfg)
    progress(0.6, desc="Zipping")
    archive = zip_folder(folder, out / f"{project.root.name}-{run.name}-adapter.zip")
    return (f"**Adapter exported** ({size_text(archive)}, run `{run.name}`): download the zip below. "
            f"It holds the LoRA weights and a model card (README.md); load it with peft on top of the base "
            f"model `{base_model}`. Also saved in `{folder}`."), str(archive)


def merged_folder(project: Project, run: Run, out: Path, progress) -> tuple:
    progress(0.1, desc="Loading the base model and folding the adapter into it")
    folder = export_merged(run, out / "merged", project.load_config())
    return (f"**Merged model saved** in `{folder}` ({size_text(folder)}, run `{run.name}`). It is a "
            "complete model: load the folder with transformers (`AutoModelForCausalLM.from_pretrained`) or "
            "vLLM. Copy the folder to take it elsewhere (it is not zipped: it is big)."), None


def gguf_for_ollama(gguf_type: str):
    def work(project: Project, run: Run, out: Path, progress) -> tuple:
        steps = {"merged": (0.5, f"Converting to GGUF ({gguf_type}) with llama.cpp's converter"),
                 "gguf": (0.95, "Writing the Ollama Modelfile"), "ollama": (1.0, "Done")}
        progress(0.1, desc="Loading the base model and folding the adapter into it")
        paths = export_weights(run, out, project.load_config(), gguf_type, ollama=True,
                               done=lambda step, _path: progress(steps[step][0], desc=steps[step][1]))
        name = ollama_name(project)
        return (f"**GGUF ready** ({gguf_type}, {size_text(paths['gguf'])}, run `{run.name}`) for llama.cpp, "
                f"Ollama and LM Studio. Download {download_link(paths['gguf'])} and "
                f"{download_link(paths['ollama'])} into one folder; there, run\n\n"
                f"```\nollama create {name} -f Modelfile\nollama run {name}\n```\n\n"
                f"Both files are also in `{out}` (with the merged weights they came from)."), None
    return work


@friendly
def on_export_adapter(root: str, progress=gr.Progress()):
    yield from exporting(root, "Exporting the adapter", adapter_zip, progress)


@friendly
def on_export_merged(root: str, progress=gr.Progress()):
    yield from exporting(root, "Exporting the merged model (this can take minutes for a big model)",
                         merged_folder, progress)


@friendly
def on_export_gguf(gguf_type: str, root: str, progress=gr.Progress()):
    yield from exporting(root, f"Exporting a GGUF ({gguf_type}) and an Ollama Modelfile (this can take minutes)",
                         gguf_for_ollama(gguf_type), progress)


@friendly
def on_description(text: str, root: str) -> None:
    """Save the demo page's description in the project (the next demo started shows it)."""
    project = Project.open(Path(root))
    project_cfg = project.load_config()
    project_cfg.description = (text or "").strip()[:MAX_DESCRIPTION_CHARS]
    project.save_config(project_cfg)


def refresh(root: str):
    description = Project.open(Path(root)).load_config().description
    info = read_json(Path(root) / INFO_FILE)
    return (describe(info), stop_button(demo_alive(info)), description, "", download_box(None), *serving.refresh(root))


def build(root: gr.State) -> dict:
    gr.Markdown("### 5 · Share\nStart a separate demo app that offers only a chat with your tuned "
                "model, protected by a password. Nothing else of this wizard is reachable through it. "
                "Ask for a public link to share it beyond this computer (needs internet).")
    with gr.Row():
        password = gr.Textbox(lambda: secrets.token_urlsafe(9), label="Password (user name: demo)",
                              info=f"At least {MIN_PASSWORD_CHARS} characters; a random one is filled in.")
        public = gr.Checkbox(False, label="Create a public link")
        rate = gr.Number(10, label="Messages per visitor per minute", precision=0, minimum=1)
    description = gr.Textbox(label="What the assistant is about (shown on the demo page)", lines=2,
                             max_length=MAX_DESCRIPTION_CHARS, elem_id="share-description",
                             placeholder="Empty: a sentence naming your documents")
    with gr.Row():
        start = gr.Button("Start demo", variant="primary", elem_id="share-start")
        stop = gr.Button("Stop sharing", variant="stop", interactive=False)
    status = gr.Markdown("No demo is running.", elem_id="share-status")
    started = start.click(on_start, [password, public, rate, root], [status, stop], api_name="share_start",
                          concurrency_limit=1)
    stopped = stop.click(on_stop, [root], [status, stop], api_name="share_stop")
    description.blur(on_description, [description, root], None, api_name="share_description")
    api = serving.build(root)
    export_status, adapter_file = build_export(root)
    return {"refresh": (refresh, [root], [status, stop, description, export_status, adapter_file, *api["refresh"][2]]),
            "changed": [started, stopped, *api["changed"]]}


def build_export(root: gr.State) -> tuple:
    """The "Export the model" panel; returns its status line and the adapter download."""
    with gr.Accordion("Export the model", open=False, elem_id="export-panel"):
        gr.Markdown("Take the newest trained model to other tools. Files go into the project's "
                    f"`{EXPORTS}` folder, one subfolder per training run.")
        with gr.Row(equal_height=True):
            adapter = gr.Button("Export adapter (.zip)", scale=1)
            gr.Markdown("The small LoRA files plus a model card: use with transformers/peft on top of "
                        "the base model.", container=True)
        with gr.Row(equal_height=True):
            merged = gr.Button("Export merged weights", scale=1)
            gr.Markdown("The full model with your training folded in: use with transformers or vLLM. "
                        "Big (the base model's size), so kept as a folder, not zipped.", container=True)
        with gr.Row(equal_height=True):
            gguf = gr.Button("Export GGUF + Ollama Modelfile", scale=1)
            gguf_type = gr.Dropdown(list(UI_GGUF_TYPES), value=UI_GGUF_TYPES[0], label="GGUF type", scale=1,
                                    info="q8_0: half the size of f16, nearly the same answers")
            gr.Markdown("One file for llama.cpp, Ollama, LM Studio, plus the Modelfile that imports it "
                        "into Ollama.", container=True)
        export_status = gr.Markdown(elem_id="export-status")
        adapter_file = gr.File(label="Adapter download", interactive=False, elem_id="export-file", height=140,
                               visible=False)
    # one export at a time; the progress bar goes on the file box so that the status line stays readable
    shared = {"concurrency_id": "export", "concurrency_limit": 1, "show_progress_on": [adapter_file]}
    adapter.click(on_export_adapter, [root], [export_status, adapter_file], api_name="export_adapter", **shared)
    merged.click(on_export_merged, [root], [export_status, adapter_file], api_name="export_merged", **shared)
    gguf.click(on_export_gguf, [gguf_type, root], [export_status, adapter_file], api_name="export_gguf", **shared)
    return export_status, adapter_file
