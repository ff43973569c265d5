"""The Share step's API panel: start and stop the OpenAI-compatible server (``dab serve``) of the
newest trained model, with its address and a ``curl`` request to copy.

    parts = serving.build(root)       # inside the Share tab

The server is a process of its own (``builder.api_server``) on 127.0.0.1: it keeps running when
the wizard closes, and "Stop the API" (or opening the Share step of the project again and
stopping it) ends it. Any OpenAI client reaches it with ``base_url`` set to the address shown.
"""

from pathlib import Path

import gradio as gr

from builder.api_server import curl_example, server_info, start_server, stop_server
from builder.eval_sets import example_questions
from builder.project import Project
from builder.runs import newest_trained_run

from .errors import friendly

DEFAULT_PORT = 8000
NOT_RUNNING = "The API is not running."


def describe(project: Project, info: dict | None) -> tuple:
    """The status line, the curl example (shown only while the server runs) and the stop button
    (pressable only then)."""
    if not info:
        return NOT_RUNNING, gr.Code(value="", visible=False), gr.Button(interactive=False)
    questions = example_questions(project, newest_trained_run(project), 1)
    key = info.get("key")
    lines = [f"**API running** at `{info['url']}` (this computer only). In an OpenAI client, set "
             f"`base_url=\"{info['url']}\"`" + (" and `api_key` to your key." if key else "; any API key works."),
             "Try it in a terminal" + (" (first `export DAB_SERVE_API_KEY=<your key>`):" if key else ":")]
    example = curl_example(info["url"], *questions[:1], with_key=bool(key))
    return "\n\n".join(lines), gr.Code(value=example, visible=True), gr.Button(interactive=True)


@friendly
def on_start(port: float | None, api_key: str, root: str, progress=gr.Progress()) -> tuple:
    project = Project.open(Path(root))
    run = newest_trained_run(project)
    if run is None:
        raise gr.Error("Train a model first (step 3).")
    if port is None or port != int(port):
        raise gr.Error("Give the port as a whole number, e.g. 8000.")
    progress(0.2, desc="Starting the API server (loading the model)")
    info = start_server(project, run, int(port), (api_key or "").strip())
    return describe(project, info)


@friendly
def on_stop(root: str) -> tuple:
    project = Project.open(Path(root))
    stopped = stop_server(project)
    return ("API stopped." if stopped else NOT_RUNNING), gr.Code(value="", visible=False), gr.Button(interactive=False)


def refresh(root: str) -> tuple:
    project = Project.open(Path(root))
    return describe(project, server_info(project))


def build(root: gr.State) -> dict:
    """The panel; returns its refresh and the events that change what runs."""
    with gr.Accordion("Serve an OpenAI-compatible API", open=False, elem_id="serve-panel"):
        gr.Markdown("Apps and tools that speak OpenAI's chat API can use your tuned model: it answers "
                    "from your documents, like the chat in step 4. The server runs on this computer only.")
        with gr.Row(equal_height=True):
            port = gr.Number(DEFAULT_PORT, label="Port", precision=0, minimum=1024, maximum=65535, scale=1)
            key = gr.Textbox(label="API key (optional)", type="password", scale=2,
                             info="When set, clients must send it as a Bearer token; it is not saved")
            start = gr.Button("Start the API", variant="primary", scale=1, elem_id="serve-start")
            stop = gr.Button("Stop the API", variant="stop", scale=1, interactive=False)
        status = gr.Markdown(NOT_RUNNING, elem_id="serve-status")
        example = gr.Code(language="shell", label="Request (copy with the button)", visible=False,
                          elem_id="serve-curl", interactive=False)
    started = start.click(on_start, [port, key, root], [status, example, stop], api_name="serve_start",
                          concurrency_limit=1, concurrency_id="serve")
    stopped = stop.click(on_stop, [root], [status, example, stop], api_name="serve_stop",
                         concurrency_limit=1, concurrency_id="serve")
    return {"refresh": (refresh, [root], [status, example, stop]), "changed": [started, stopped]}
