"""Atomic training checkpoints: save every N steps, resume from the last complete one.

    weights, moments = lora_weights(model), whole_optimizer_state(optimizer)   # on every rank
    save_checkpoint(run_dir, step, weights, moments, scheduler, {"best_step": 4, ...})
    checkpoint = load_latest_checkpoint(run_dir)   # None when there is nothing usable
    restore_checkpoint(checkpoint, model, optimizer, scheduler)

A checkpoint is ``<run>/checkpoints/step-000012/`` holding the LoRA weights
(``adapter_model.safetensors``), the optimizer/scheduler/RNG state (``optimizer.pt``),
``trainer_state.json`` and, written last, the ``CHECKPOINT_COMPLETE`` marker. Everything is
written into a hidden ``.tmp-step-*`` folder first, flushed to disk, and renamed into place, so
a ``kill -9`` or a full disk mid-save leaves the previous checkpoint untouched. Folders without
the marker, or whose files fail to load, are skipped (with a note) in favour of an older one.
Weights and optimizer state are saved whole, also from a sharded (FSDP) run (``sharding``).
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..storage import read_json, replace_dir, write_json
from .sharding import load_optimizer_state, load_trainable_state, unwrapped, whole_trainable_state

CHECKPOINTS_DIR = "checkpoints"
CHECKPOINT_MARKER = "CHECKPOINT_COMPLETE"
WEIGHTS_FILE = "adapter_model.safetensors"
OPTIMIZER_FILE = "optimizer.pt"
STATE_FILE = "trainer_state.json"


@dataclass
class Checkpoint:
    path: Path
    step: int
    state: dict
    weights: dict
    optimizer: dict


def checkpoint_name(step: int) -> str:
    return f"step-{step:06d}"


def save_checkpoint(run_dir: Path, step: int, weights: dict, optimizer_state: dict, scheduler, state: dict) -> Path:
    """Write a complete checkpoint for ``step`` atomically (``weights``: ``lora_weights``;
    ``optimizer_state``: ``sharding.whole_optimizer_state``); return its folder."""
    import torch
    from safetensors.torch import save_file

    root = Path(run_dir) / CHECKPOINTS_DIR
    final, tmp = root / checkpoint_name(step), root / f".tmp-{checkpoint_name(step)}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        save_file(weights, str(tmp / WEIGHTS_FILE))
        torch.save({"optimizer": optimizer_state, "scheduler": scheduler.state_dict(),
                    "rng": torch.get_rng_state()}, tmp / OPTIMIZER_FILE)
        write_json(tmp / STATE_FILE, {"step": step, **state})
        (tmp / CHECKPOINT_MARKER).write_text(f"{step}\n")
        fsync_folder(tmp)
        replace_dir(tmp, final)
        fsync_folder(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def lora_weights(model) -> dict:
    """The trainable LoRA tensors of a (DDP-wrapped, sharded or plain) PEFT model, whole and on
    CPU, named as PEFT saves them (gathered under FSDP: every rank must call it)."""
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(unwrapped(model), state_dict=whole_trainable_state(model))


def by_parameter_name(model, weights: dict) -> dict:
    """Saved LoRA tensors (PEFT's names) keyed by the model's parameter names; ValueError when
    they are not exactly the model's trainable tensors. PEFT's own naming decides the match: it
    renames the parameters' names to the names it saves."""
    import torch
    from peft import get_peft_model_state_dict

    names = [name for name, param in unwrapped(model).named_parameters() if param.requires_grad]
    saved_as = get_peft_model_state_dict(unwrapped(model), state_dict={n: torch.tensor(i) for i, n in enumerate(names)})
    if set(saved_as) != set(weights) or len(saved_as) != len(names):
        raise ValueError(f"checkpoint does not match this model ({len(set(saved_as) ^ set(weights))} tensors differ)")
    return {names[int(index)]: weights[key] for key, index in saved_as.items()}


def fsync_folder(folder: Path) -> None:
    """Flush every file in ``folder`` and the folder entry itself to disk."""
    for path in [*folder.iterdir(), folder]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def complete_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint folders carrying the completion marker, newest first."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.name.startswith("step-") and (p / CHECKPOINT_MARKER).is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def load_checkpoint(path: Path) -> Checkpoint:
    """Read one checkpoint folder; raises ValueError/OSError/RuntimeError when it is damaged."""
    import torch
    from safetensors.torch import load_file

    state = read_json(path / STATE_FILE)
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        raise ValueError(f"{path.name}: {STATE_FILE} is missing or malformed")
    weights = load_file(str(path / WEIGHTS_FILE))
    optimizer = torch.load(path / OPTIMIZER_FILE, map_location="cpu", weights_only=True)
    return Checkpoint(path, state["step"], state, weights, optimizer)


def load_latest_checkpoint(run_dir: Path, log=print) -> Checkpoint | None:
    """The newest checkpoint that loads; damaged ones are reported through ``log`` and skipped."""
    import pickle

    from safetensors import SafetensorError

    for path in complete_checkpoints(run_dir):
        try:
            return load_checkpoint(path)
        except (OSError, ValueError, RuntimeError, KeyError, EOFError, pickle.UnpicklingError, SafetensorError) as exc:
            log(f"skipping damaged checkpoint {path.name}: {str(exc).splitlines()[0] if str(exc) else exc!r}")
    return None


def restore_checkpoint(checkpoint: Checkpoint, model, optimizer, scheduler) -> None:
    """Load LoRA weights, optimizer, scheduler and RNG state from ``checkpoint``."""
    import torch

    restore_weights(model, checkpoint.weights)
    load_optimizer_state(optimizer, checkpoint.optimizer["optimizer"])
    scheduler.load_state_dict(checkpoint.optimizer["scheduler"])
    torch.set_rng_state(checkpoint.optimizer["rng"])


def restore_weights(model, weights: dict) -> None:
    """Put saved LoRA tensors back into a (DDP-wrapped, sharded or plain) PEFT model."""
    load_trainable_state(model, by_parameter_name(model, weights))


def prune_checkpoints(run_dir: Path, keep_steps: set[int]) -> None:
    """Delete complete checkpoints not in ``keep_steps`` and leftovers of interrupted saves."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return
    keep = {checkpoint_name(step) for step in keep_steps}
    for path in root.iterdir():
        if path.name.startswith(".tmp-") or (path.name.startswith("step-") and path.name not in keep
                                             and (path / CHECKPOINT_MARKER).is_file()):
            shutil.rmtree(path, ignore_errors=True)
