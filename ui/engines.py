"""Keep one loaded chat model per app process, reloaded only when the base or adapter changes."""

import threading
from pathlib import Path

from builder.chat import ChatEngine

_lock = threading.Lock()
_cache: dict[tuple[str, str], ChatEngine] = {}


def get_engine(base_model: str, adapter_dir: Path | None) -> ChatEngine:
    """The engine for (base, adapter); loading a different pair frees the previous one."""
    key = (base_model, str(adapter_dir or ""))
    with _lock:
        if key not in _cache:
            _cache.clear()
            _cache[key] = ChatEngine.load(base_model, adapter_dir)
        return _cache[key]
