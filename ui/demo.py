"""The chat-only demo app that a share link points to: one chat box, nothing else.

    python -m ui.demo --project PROJECT --adapter ADAPTER --password SECRET [--share] [--port 7861]

It exposes no files, no training controls and no project data: its only endpoint streams
answers from the tuned model. A password is required (user name ``demo``). When started with
``--share``, Gradio is asked for a public link; without internet none can be made, and the
app says so in ``--info-file`` while the local demo keeps working.
"""

import argparse
import os
from pathlib import Path

import gradio as gr

from builder.project import Project
from builder.storage import write_json

from .engines import get_engine


def build_demo(project: Project, adapter: Path) -> gr.Blocks:
    """A ChatInterface streaming answers from base + adapter."""
    cfg = project.load_config()
    engine = get_engine(cfg.train.base_model, adapter)

    def respond(message: str, history: list[dict]):
        if not message or not message.strip():
            yield "Please type a question."
            return
        messages = [{"role": m["role"], "content": m["content"]} for m in history if isinstance(m.get("content"), str)]
        text = ""
        for piece in engine.stream(messages + [{"role": "user", "content": message}], cfg.chat):
            text += piece
            yield text

    return gr.ChatInterface(respond, title=f"{cfg.name} assistant", analytics_enabled=False,
                            description="Answers come from a model fine-tuned on this organisation's documents.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the chat-only demo of a tuned model.")
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--adapter", type=Path, required=True)
    parser.add_argument("--password", default=os.environ.get("DAB_DEMO_PASSWORD", ""))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7861)
    parser.add_argument("--info-file", type=Path, help="write the local and public URLs here (JSON)")
    args = parser.parse_args(argv)
    if not args.password:
        parser.error("a password is required (--password or DAB_DEMO_PASSWORD)")
    demo = build_demo(Project.open(args.project), args.adapter)
    _, local_url, share_url = demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                                          auth=("demo", args.password), prevent_thread_lock=True, quiet=True)
    if args.info_file:
        note = None if share_url or not args.share else "no public link could be made (offline?); the local demo works"
        write_json(args.info_file, {"local_url": local_url, "share_url": share_url, "note": note, "pid": os.getpid()})
    demo.block_thread()


if __name__ == "__main__":
    main()
