"""From reviewed pairs to training data: leakage-free split, chat messages, export and import.

    splits = split_pairs(pairs, pairs_cfg)                   # builder.splits: train / recall / unseen
    export_pairs(pairs, Path("out.jsonl"), "openai")       # also "alpaca", "sharegpt"
    messages = pair_messages(question, answer, system_prompt)  # one pair as a chat
    rows = import_pairs(Path("data.json"))                 # format detected from the rows
    build_dataset_dict(pairs, pairs_cfg).save_to_disk("ds")   # datasets.DatasetDict train/eval
    push_to_hub(pairs, "me/my-dataset", pairs_cfg)           # token from $HF_TOKEN

The ``eval`` split holds the held-out pairs of ``builder.splits`` (recall and unseen passages).

Formats: ``openai`` = JSONL of ``{"messages": [{"role", "content"}, ...]}``; ``alpaca`` = a JSON
list (or JSONL) of ``{"instruction", "input", "output"}``; ``sharegpt`` = JSONL of
``{"conversations": [{"from": "human"|"gpt"|"system", "value"}]}``. Imported pairs become
``edited`` pairs of generator ``import`` (the user brought them, so regeneration keeps them).
"""

import json
from pathlib import Path

from .config import PairsConfig
from .errors import DatasetError
from .models import hub_token
from .pairs import neutralize_control_tokens, new_pair
from .records import Pair
from .splits import split_pairs
from .storage import atomic_write_text

FORMATS = ("openai", "alpaca", "sharegpt")
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "system": "system"}


def pair_messages(question: str, answer: str, system_prompt: str = "",
                  special_tokens: tuple[str, ...] | list[str] = ()) -> list[dict]:
    """One question and its answer as a chat conversation (system prompt optional).

    Contents pass through ``neutralize_control_tokens`` (idempotent), so a pair written before
    that rule existed, or edited by hand in ``pairs.jsonl``, still cannot inject chat-control
    tokens; pass ``tokenizer.all_special_tokens`` to cover a model's own markers as well.
    """
    def clean(text: str) -> str:
        return neutralize_control_tokens(text, special_tokens)

    messages = [{"role": "system", "content": clean(system_prompt)}] if system_prompt else []
    return messages + [{"role": "user", "content": clean(question)},
                       {"role": "assistant", "content": clean(answer)}]


def to_row(pair: Pair, fmt: str, system_prompt: str = "") -> dict:
    """One pair in an export format."""
    if fmt == "openai":
        return {"messages": pair_messages(pair.question, pair.answer, system_prompt)}
    if fmt == "alpaca":
        return {"instruction": pair.question, "input": "", "output": pair.answer}
    if fmt == "sharegpt":
        turns = [{"from": "system", "value": system_prompt}] if system_prompt else []
        return {"conversations": turns + [{"from": "human", "value": pair.question},
                                          {"from": "gpt", "value": pair.answer}]}
    raise DatasetError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")


def export_pairs(pairs: list[Pair], path: Path, fmt: str, system_prompt: str = "") -> int:
    """Write pairs as JSONL in ``fmt``; returns the number of rows written."""
    rows = [to_row(p, fmt, system_prompt) for p in pairs]
    atomic_write_text(Path(path), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return len(rows)


def read_rows(path: Path) -> list[dict]:
    """Rows of a JSON list file or a JSONL file."""
    text = Path(path).read_text(encoding="utf-8-sig").strip()
    if not text:
        raise DatasetError(f"{Path(path).name} is empty")
    try:
        data = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines()
                                                             if line.strip()]
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{Path(path).name} is not JSON or JSON Lines (line {exc.lineno}: {exc.msg})") from exc
    if not all(isinstance(r, dict) for r in data):
        raise DatasetError(f"{Path(path).name}: every row must be a JSON object")
    return data


def detect_format(row: dict) -> str:
    if "messages" in row:
        return "openai"
    if "conversations" in row:
        return "sharegpt"
    if "instruction" in row and "output" in row:
        return "alpaca"
    raise DatasetError(f"unrecognised row (keys: {', '.join(sorted(row)) or 'none'}); expected {', '.join(FORMATS)}")


def row_question_answer(row: dict, fmt: str) -> tuple[str, str]:
    """The (question, answer) of one imported row: its first user turn and the reply to it."""
    if fmt == "alpaca":
        question = "\n\n".join(part for part in (row.get("instruction"), row.get("input")) if part)
        return question, row.get("output", "")
    turns = row["messages"] if fmt == "openai" else [
        {"role": _SHAREGPT_ROLES.get(t.get("from"), "?"), "content": t.get("value", "")} for t in row["conversations"]]
    roles = [t.get("role") for t in turns]
    if "user" not in roles or "assistant" not in roles[roles.index("user"):]:
        raise DatasetError("a conversation without a user turn followed by an assistant turn")
    first = roles.index("user")
    reply = roles.index("assistant", first)
    return turns[first]["content"], turns[reply]["content"]


def import_pairs(path: Path, fmt: str | None = None) -> list[Pair]:
    """Pairs from an exported file (format detected unless given); bad rows raise DatasetError."""
    rows = read_rows(path)
    pairs = []
    for number, row in enumerate(rows, start=1):
        row_fmt = fmt or detect_format(row)
        try:
            question, answer = row_question_answer(row, row_fmt)
        except (KeyError, TypeError, AttributeError, DatasetError) as exc:
            raise DatasetError(f"{Path(path).name} row {number}: not a valid {row_fmt} row ({exc})") from exc
        if not str(question).strip() or not str(answer).strip():
            raise DatasetError(f"{Path(path).name} row {number}: empty question or answer")
        pairs.append(new_pair(str(question), str(answer), "import"))
    return pairs


def import_into_project(project, path: Path, fmt: str | None = None) -> tuple[int, int]:
    """Add the pairs of an exported file to a project; returns (new pairs, pairs in the file)."""
    rows = import_pairs(path, fmt)
    with project.edit_pairs() as pairs:
        known = {p.id for p in pairs}
        new = list({r.id: r for r in rows if r.id not in known}.values())
        pairs.extend(new)
    return len(new), len(rows)


def build_dataset_dict(pairs: list[Pair], pairs_cfg: PairsConfig, system_prompt: str = ""):
    """A ``datasets.DatasetDict`` with ``train`` (and ``eval``: held-out) splits of ``messages`` rows."""
    from datasets import Dataset, DatasetDict

    splits = split_pairs(pairs, pairs_cfg)
    train, held = splits.train, splits.held_out
    def table(rows: list[Pair]):
        return Dataset.from_list([{"id": p.id, "chunk_id": p.chunk_id,
                                   "messages": pair_messages(p.question, p.answer, system_prompt)} for p in rows])
    splits = {"train": table(train)}
    if held:
        splits["eval"] = table(held)
    return DatasetDict(splits)


def push_to_hub(pairs: list[Pair], repo_id: str, pairs_cfg: PairsConfig, private: bool = True,
                system_prompt: str = "") -> str:
    """Upload the dataset to the Hugging Face Hub with the token in ``$HF_TOKEN``; returns its URL."""
    token = hub_token()
    if not token:
        raise DatasetError("set HF_TOKEN to a Hugging Face write token to push datasets")
    import httpx

    try:
        build_dataset_dict(pairs, pairs_cfg, system_prompt).push_to_hub(repo_id, token=token, private=private)
    except (OSError, httpx.HTTPError, ValueError) as exc:  # offline, auth, network (hub errors are OSErrors)
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(f"could not push to the Hub ({type(exc).__name__}): {first_line}") from exc
    return f"https://huggingface.co/datasets/{repo_id}"
