"""Atomic file writes and JSON Lines helpers.

Every file the builder writes goes through here: the content is written to a temporary file in
the same folder, flushed to disk, then moved over the target with ``os.replace``, so a crash or
``kill -9`` leaves either the old file or the new one, never half of one.

``exclusive_lock(path)`` serialises a read-modify-write across processes and threads::

    with exclusive_lock(project.root / ".pairs.lock"):
        rows = read_jsonl(path); ...; write_jsonl(path, rows)
"""

import fcntl
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created empty if missing) for the ``with`` block.

    ``fcntl.flock`` on a file opened here: it excludes other processes and other threads alike
    (each holder opens its own descriptor), waits until the holder is done, and is released by
    the kernel when the holder exits or is killed, so a crash never leaves it held. Not
    re-entrant: a holder that asks again waits for itself. Covers one machine's processes; a
    project folder on a network drive shared by two machines is not covered.
    """
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def replace_dir(tmp: Path, target: Path) -> Path:
    """Put the finished folder ``tmp`` in place of ``target`` (checkpoints, adapters, exports).

    The old ``target`` is renamed aside first and deleted last, so at every moment ``target`` is
    either the complete old folder or the complete new one (never half-deleted).
    """
    tmp, target = Path(tmp), Path(target)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj: Any) -> None:
    """Write one JSON document atomically, pretty-printed for humans."""
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path, default: Any = None) -> Any:
    """Read a JSON document, or return ``default`` when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Write rows as JSON Lines atomically (one object per line)."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    atomic_write_text(path, text)


def read_jsonl(path: Path) -> list[dict]:
    """Read all rows of a JSON Lines file; a missing file is an empty list."""
    return list(iter_jsonl(path))


def iter_jsonl(path: Path) -> Iterator[dict]:
    """Yield the rows of a JSON Lines file, skipping blank lines.

    A last line without its newline is a write torn by a crash (append-only logs): it is skipped.
    """
    path = Path(path)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            if not line.endswith("\n"):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    return
                return
            yield json.loads(line)


def append_jsonl(path: Path, row: dict) -> None:
    """Append one row to a JSON Lines log (metrics); a torn last line is skipped by readers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
