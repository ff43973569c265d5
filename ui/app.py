"""The browser wizard: Documents → Pairs → Fine-tune → Evaluate & chat → Share.

    python -m builder.cli ui --sample        # or: dab ui --project PATH

Each step is a tab built by a module in ``ui/steps``; handlers turn widget values into builder
calls and show errors as plain messages. All state lives in the project folder, so a reload
or a restart picks up where the user was. The wizard binds to 127.0.0.1 unless told otherwise.
"""

import logging
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from builder.config import BUNDLED_MODEL  # noqa: E402
from builder.project import Project, default_home  # noqa: E402
from builder.workflow import create_sample_project  # noqa: E402

from .steps import chat, documents, pairs, share, train  # noqa: E402

log = logging.getLogger("dab.ui")
MAX_UPLOAD = "50mb"


def build_app(project_root: Path) -> gr.Blocks:
    """The five-step wizard for one project folder."""
    with gr.Blocks(title="Domain Assistant Builder", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as app:
        gr.Markdown("# Domain Assistant Builder\nTurn your documents into an assistant that knows them: "
                    f"five steps, left to right. Project: `{project_root}`")
        root = gr.State(str(project_root))
        refreshers = []
        with gr.Tabs():
            with gr.Tab("1 · Documents"):
                refreshers.append(documents.build(root)["refresh"])
            with gr.Tab("2 · Pairs"):
                refreshers.append(pairs.build(root)["refresh"])
            with gr.Tab("3 · Fine-tune"):
                model = Project.open(project_root).load_config().train.base_model
                refreshers.append(train.build(root, "bundled" if model == BUNDLED_MODEL else model)["refresh"])
            with gr.Tab("4 · Evaluate & chat"):
                chat.build(root)
            with gr.Tab("5 · Share"):
                share.build(root)
        for fn, inputs, outputs in refreshers:
            app.load(fn, inputs, outputs)
    return app


def open_project(project: Path | None, sample: bool) -> Path:
    """The project to show: the given folder, the sample project, or a default one."""
    if sample:
        return create_sample_project(default_home() / "projects" / "sample").root
    return Project.create(project or default_home() / "projects" / "default").root


def launch(project: Path | None = None, sample: bool = False, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Prepare the project and serve the wizard (blocks until interrupted)."""
    if host not in {"127.0.0.1", "localhost", "::1"}:
        log.warning("binding to %s: anyone who can reach this address can use the wizard", host)
        print(f"warning: the wizard is reachable from other computers on {host}; it has no password")
    root = open_project(project, sample)
    print(f"project: {root}")
    app = build_app(root)
    app.queue(default_concurrency_limit=1).launch(
        server_name=host, server_port=port, max_file_size=MAX_UPLOAD, show_error=False,
        allowed_paths=[str(root)])


