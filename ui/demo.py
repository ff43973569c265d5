"""The chat-only demo app that a share link points to: one chat box, nothing else.

    python -m ui.demo --project PROJECT --adapter ADAPTER [--share] [--port 7861]   # password in DAB_DEMO_PASSWORD

The page looks like the organisation's assistant, not like this product: its title is the
project's name, its description the project's ``description`` (else a sentence naming the
documents), and three example questions come from the held-out evaluation questions
(``demo_page``). What it exposes: one API endpoint, ``/chat``, streaming answers from the tuned model, behind a
password (user name ``demo``) and a per-visitor rate limit (``ratelimit``: ``X-Forwarded-For`` is
believed only through the share tunnel or a ``--trusted-proxy``). Answers come from the documents
with the project's chat settings (``builder.answers``), and visitors see the sources under each
answer: document, heading and the quoted passage (the API returns them as messages after the
answer). What it does not expose: files (Gradio's file, upload, proxy and stream routes answer
403: ``guard.DEMO_REFUSED_PATHS``; the demo process has a Gradio temp folder of its own, so
nothing uploaded to the wizard is even in its cache; the project folder is on Gradio's blocked
list), training controls, other project data, or any other endpoint. Requests whose Host is not
the demo's own address (or its share link) are refused (``guard``: DNS rebinding). When started
with ``--share``, Gradio is asked for a public link; offline none can be made (``share_url`` stays
None), and ``--info-file`` says so while the local demo keeps working.
"""

import argparse
import html
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

OWN_TEMP_DIR = None
if __name__ == "__main__":  # the demo process: a Gradio temp folder of its own, set before Gradio loads
    OWN_TEMP_DIR = os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="dab-demo-")

import gradio as gr  # noqa: E402

from builder.answers import engine_prompt  # noqa: E402
from builder.eval_sets import example_questions  # noqa: E402
from builder.project import Project  # noqa: E402
from builder.runs import Run, chat_settings  # noqa: E402
from builder.storage import write_json  # noqa: E402

from .engines import get_engine, history_messages  # noqa: E402
from .guard import DEMO_REFUSED_PATHS, AllowedHosts, guard_kwargs  # noqa: E402
from .ratelimit import ProxyTrust, RateLimiter, visitor_key  # noqa: E402
from .sources import check_messages, source_messages  # noqa: E402

DEMO_USER = "demo"
MAX_UPLOAD = "16kb"  # the demo takes no files; Gradio's upload route stays tiny
EXAMPLES = 3
NAMED_DOCUMENTS = 4  # a made-up description names this many documents, then counts the rest


def demo_page(project: Project, run: Run) -> tuple[str, str, list[str]]:
    """(title, description, example questions) of the demo page, all from the project."""
    project_cfg = project.load_config()
    title = html.escape(f"{readable(project_cfg.name) or 'Your'} assistant")  # Gradio shows the title as HTML
    about = project_cfg.description.strip() or documents_sentence([s.original_name for s in project.sources()])
    description = (f"{about}\n\nAnswers come from a model trained on these documents, with the passages "
                   "they are based on under each answer.")
    return title, description, example_questions(project, run, EXAMPLES)


def readable(name: str) -> str:
    """A name as words: "cargo-bike_booking" -> "Cargo bike booking"."""
    words = " ".join(name.replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:]


def documents_sentence(names: list[str]) -> str:
    """ "Ask about membership guide, fees and passes, ... and 5 more documents." """
    if not names:
        return "Ask a question about the organisation's documents."
    shown = [readable(Path(n).stem).lower() for n in names[:NAMED_DOCUMENTS]]
    rest = len(names) - len(shown)
    listed = ", ".join(shown) + (f" and {rest} more documents" if rest else "")
    return f"Ask about what these documents say: {listed}."


def build_demo(project: Project, run: Run, limiter: RateLimiter) -> gr.Blocks:
    """A ChatInterface streaming answers from the run's model; only its chat endpoint is public."""
    project_cfg = project.load_config()
    engine = get_engine(run, project_cfg)
    chat = chat_settings(project_cfg, run)

    def respond(message: str, history: list[dict], request: gr.Request):
        if not message or not message.strip():
            yield "Please type a question."
            return
        visitor = visitor_key(request, limiter.trust)
        if not limiter.allow(visitor):
            wait_s = limiter.retry_after_s(visitor)
            raise gr.Error(f"Too many messages: please wait {wait_s:.0f} s before asking again.")
        asked = history_messages(history) + [{"role": "user", "content": message}]
        prompt = engine_prompt(engine, project, asked, chat)
        sources, text = source_messages(prompt), ""
        for piece in engine.stream(prompt.messages, chat):
            text += piece
            yield [{"role": "assistant", "content": text}, *sources]
        checks = check_messages(prompt, text)
        if checks or not text:  # an empty answer still shows its sources
            yield [{"role": "assistant", "content": text}, *checks, *sources]

    title, description, examples = demo_page(project, run)
    demo = gr.ChatInterface(respond, title=title, description=description, examples=examples or None,
                            cache_examples=False, analytics_enabled=False, api_name="chat", flagging_mode="never",
                            save_history=False, delete_cache=(600, 600))
    hide_internal_endpoints(demo, keep="chat")
    return demo


def hide_internal_endpoints(blocks: gr.Blocks, keep: str) -> None:
    """Make every event but ``keep`` private, so the API offers nothing but the chat."""
    for dep in blocks.fns.values():
        if dep.api_name != keep:
            dep.api_visibility = "private"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the chat-only demo of a tuned model.")
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--adapter", type=Path, required=True)
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = the first free port from 7860")
    parser.add_argument("--max-messages-per-minute", type=int, default=10)
    parser.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDRESS",
                        help="a reverse proxy in front of the demo whose X-Forwarded-For is believed")
    parser.add_argument("--info-file", type=Path, help="write the local and public URLs here (JSON)")
    args = parser.parse_args(argv)
    password = os.environ.get("DAB_DEMO_PASSWORD", "")
    if not password:
        parser.error("a password is required in DAB_DEMO_PASSWORD")
    project = Project.open(args.project)
    hosts, limiter = AllowedHosts(args.host), RateLimiter(args.max_messages_per_minute, 60.0,
                                                          trust=ProxyTrust(args.trusted_proxy))
    demo = build_demo(project, Run.of_adapter(args.adapter), limiter)
    os.environ["FORWARDED_ALLOW_IPS"] = ""  # uvicorn keeps the socket address; visitor_key decides whom to believe
    _, local_url, share_url = demo.queue(default_concurrency_limit=1).launch(
        server_name=args.host, server_port=args.port or None, share=args.share, auth=(DEMO_USER, password),
        prevent_thread_lock=True, quiet=True, max_file_size=MAX_UPLOAD, allowed_paths=[],
        blocked_paths=[str(project.root.resolve())], footer_links=[],
        app_kwargs=guard_kwargs(hosts, DEMO_REFUSED_PATHS))
    hosts.add_url(share_url)
    limiter.trust.add_tunnel(share_url)
    if args.info_file:
        note = None if share_url or not args.share else (
            "No public link could be made (no internet, or Gradio's share service is unreachable). "
            "The demo works on this computer and your network at the local address.")
        write_json(args.info_file, {"local_url": local_url, "share_url": share_url, "note": note,
                                    "pid": os.getpid(), "adapter": str(args.adapter)})
    serve_until_stopped(demo)


def serve_until_stopped(demo: gr.Blocks) -> None:
    """Serve until Ctrl-C or SIGTERM ("Stop sharing"), then remove the demo's own temp folder."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        demo.block_thread()
    finally:
        demo.close()
        if OWN_TEMP_DIR:
            shutil.rmtree(OWN_TEMP_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
