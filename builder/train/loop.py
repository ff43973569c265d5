"""The training loop: LoRA (fp32 on CPU, 4-bit QLoRA on CUDA) over packed, assistant-only data.

    result = run_training(project, run_dir)

Writes into ``run_dir``: ``config.yaml`` (resolved), ``data.json`` (fingerprint and counts),
``metrics.jsonl`` (one line per logged step), ``status.json`` (state for the UI and CLI),
``adapter/`` (safetensors) and, last, the ``COMPLETE`` marker. A ``STOP`` file in the run
folder ends training gracefully after the current step, saving the adapter.
"""

import hashlib
import json
import math
import time
from pathlib import Path

from ..config import ProjectConfig
from ..dataset import split_pairs, to_messages
from ..errors import TrainingError
from ..models import load_model, load_tokenizer
from ..pairs import training_pairs
from ..project import RUN_COMPLETE_MARKER, Project
from ..storage import append_jsonl, write_json
from .data import collate_packed, pack_examples, tokenize_conversation

STOP_FILE = "STOP"


def run_training(project: Project, run_dir: Path, cfg: ProjectConfig | None = None) -> dict:
    """Train one LoRA adapter on the project's pairs; returns the final status dict."""
    import torch

    cfg = cfg or project.load_config()
    tc = cfg.train
    torch.manual_seed(tc.seed)
    pairs = training_pairs(project.pairs())
    if not pairs:
        raise TrainingError("no pairs to train on: generate pairs and accept at least a few first")
    train_pairs, eval_pairs = split_pairs(pairs, cfg.pairs.eval_fraction, cfg.pairs.seed)
    cfg.save(run_dir / "config.yaml")
    set_status(run_dir, "loading", message="loading the base model")
    tokenizer = load_tokenizer(tc.base_model)
    train_rows, truncated = build_rows(tokenizer, train_pairs, cfg)
    eval_rows, _ = build_rows(tokenizer, eval_pairs, cfg)
    write_json(run_dir / "data.json", {"fingerprint": fingerprint(pairs), "train_pairs": len(train_pairs),
                                       "eval_pairs": len(eval_pairs), "truncated": truncated,
                                       "base_model": tc.base_model})
    model = build_lora_model(tc)
    return train_loop(model, tokenizer, train_rows, eval_rows, cfg, run_dir)


def build_rows(tokenizer, pairs: list[dict], cfg: ProjectConfig) -> tuple[list, int]:
    """Tokenize and pack pairs into rows of ``micro_batch * max_seq_tokens`` tokens."""
    examples, truncated = [], 0
    for pair in pairs:
        example, was_truncated = tokenize_conversation(
            tokenizer, to_messages(pair, cfg.chat.system_prompt), cfg.train.max_seq_tokens)
        examples.append(example)
        truncated += was_truncated
    return pack_examples(examples, cfg.train.micro_batch * cfg.train.max_seq_tokens, cfg.train.seed), truncated


def build_lora_model(tc):
    """Base model (4-bit when configured) with LoRA adapters on all linear layers."""
    from peft import LoraConfig, get_peft_model

    model = load_model(tc.base_model, quantize=tc.quantize)
    model.config.use_cache = False
    lora = LoraConfig(r=tc.lora_rank, lora_alpha=tc.lora_alpha, lora_dropout=tc.lora_dropout,
                      target_modules="all-linear", task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def train_loop(model, tokenizer, train_rows, eval_rows, cfg: ProjectConfig, run_dir: Path) -> dict:
    """Optimise the LoRA weights; log metrics; stop on request; save the adapter."""
    import torch
    from transformers import get_cosine_schedule_with_warmup

    tc = cfg.train
    device = next(model.parameters()).device
    steps_per_epoch = math.ceil(len(train_rows) / tc.grad_accum)
    total_steps = tc.max_steps or max(1, math.ceil(steps_per_epoch * tc.epochs))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=tc.learning_rate, weight_decay=0.0)
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(tc.warmup_fraction * total_steps), total_steps)
    model.train()
    started, tokens_seen = time.monotonic(), 0
    for step in range(1, total_steps + 1):
        rows = [train_rows[((step - 1) * tc.grad_accum + i) % len(train_rows)] for i in range(tc.grad_accum)]
        loss, tokens = accumulate(model, rows, device)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        tokens_seen += tokens
        elapsed = time.monotonic() - started
        if step % tc.log_every_steps == 0 or step == total_steps:
            append_jsonl(run_dir / "metrics.jsonl", {
                "step": step, "epoch": round(step / steps_per_epoch, 3), "loss": round(loss, 4),
                "lr": scheduler.get_last_lr()[0], "tokens_per_s": round(tokens_seen / elapsed, 1),
                "elapsed_s": round(elapsed, 1), "eta_s": round(elapsed / step * (total_steps - step), 1)})
        set_status(run_dir, "running", step=step, total_steps=total_steps)
        if (run_dir / STOP_FILE).exists():
            break
    eval_loss = evaluate_loss(model, eval_rows, device) if eval_rows else None
    if eval_loss is not None:
        append_jsonl(run_dir / "metrics.jsonl", {"step": step, "eval_loss": round(eval_loss, 4)})
    save_adapter(model, tokenizer, run_dir)
    state = "stopped" if (run_dir / STOP_FILE).exists() else "completed"
    (run_dir / RUN_COMPLETE_MARKER).write_text(state + "\n")
    return set_status(run_dir, state, step=step, total_steps=total_steps, eval_loss=eval_loss)


def accumulate(model, rows: list, device) -> tuple[float, int]:
    """Forward/backward over ``rows`` (gradient accumulation); mean loss and real tokens."""
    total_loss, total_tokens = 0.0, 0
    for row in rows:
        batch = {k: v.to(device) for k, v in collate_packed(row).items()}
        loss = model(**batch).loss / len(rows)
        loss.backward()
        total_loss += loss.item()
        total_tokens += batch["input_ids"].numel()
    return total_loss, total_tokens


def evaluate_loss(model, rows: list, device) -> float:
    """Mean loss on held-out rows (no gradients)."""
    import torch

    model.eval()
    with torch.no_grad():
        losses = [model(**{k: v.to(device) for k, v in collate_packed(row).items()}).loss.item() for row in rows]
    model.train()
    return sum(losses) / len(losses)


def save_adapter(model, tokenizer, run_dir: Path) -> Path:
    """Save the LoRA adapter (safetensors) and tokenizer; a folder rename makes it atomic."""
    target, tmp = run_dir / "adapter", run_dir / ".adapter.tmp"
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    tmp.replace(target)
    return target


def set_status(run_dir: Path, state: str, **fields) -> dict:
    """Write ``status.json``: the state the UI and CLI follow (loading/running/completed/...)."""
    status = {"state": state, "updated": time.time(), **fields}
    write_json(run_dir / "status.json", status)
    return status


def fingerprint(pairs: list[dict]) -> str:
    """A short hash of the exact training data, so a run records what it learned from."""
    blob = json.dumps([[p["id"], p["question"], p["answer"]] for p in pairs], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]
