"""Keep one loaded chat model per app process, reloaded only when the run (base + adapter) changes.

Also turns Gradio chat histories (whose messages carry lists of content parts) into the plain
``{"role", "content"}`` messages the chat engine expects, without the boxes shown under answers.
"""

import threading

from builder.chat import ChatEngine
from builder.config import ProjectConfig
from builder.runs import Run, load_engine

_lock = threading.Lock()
_cache: dict[tuple[str, str], ChatEngine] = {}


def get_engine(run: Run, project_cfg: ProjectConfig) -> ChatEngine:
    """The engine of a trained run (``runs.load_engine``); loading another frees the previous one."""
    key = (run.base_model(project_cfg), str(run.adapter_dir))
    with _lock:
        if key not in _cache:
            _cache.clear()
            _cache[key] = load_engine(run, project_cfg)
        return _cache[key]


def stop_current() -> bool:
    """Stop the answer the loaded engine is generating, if any; never loads a model."""
    with _lock:
        engines = list(_cache.values())
    for engine in engines:
        engine.stop()
    return bool(engines)


def plain_text(content) -> str:
    """The text of a chat message content: a string, or a list of parts with ``text``."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, (list, tuple)):
        return "".join(plain_text(part) for part in content)
    return ""


def history_messages(history: list[dict]) -> list[dict]:
    """Gradio chat history -> plain user/assistant messages (empty ones and shown-only boxes, such
    as the sources under an answer, dropped)."""
    messages = [{"role": m.get("role"), "content": plain_text(m.get("content"))} for m in history or []
                if not (m.get("metadata") or {}).get("title")]
    return [m for m in messages if m["role"] in {"user", "assistant"} and m["content"].strip()]
