"""Everything before the first training step: the run folder, then plan -> data -> model -> record.

    run, lock = claim_run(project, None, resume=False)   # the run folder, with the project's training lock
    prep = prepare(project, run, project_cfg, resume=False, dist=Dist())

``prepare`` plans the run (``plan.plan_run``: preset resolved against the detected hardware,
memory estimate), tokenizes and packs the pairs (counting truncated and dropped ones, refusing
to start without accepted pairs), loads the model and records all of it in ``data.json`` and
``config.yaml``. Resuming reuses the run's own ``config.yaml`` and refuses when the pairs
changed since the run began (the data fingerprint differs).
"""

import errno
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import ProjectConfig
from ..errors import BuilderError, TrainingBusy, TrainingError
from ..project import Project
from ..dataset import pair_messages
from ..runs import Run, data_fingerprint, newest_resumable_run
from ..storage import write_json
from .checkpoint import complete_checkpoints
from .data import PreparedData, prepare_rows
from .distributed import Dist, device_for
from .lock import acquire_lock, active_lock, busy_error
from .plan import RunPlan, optimizer_steps, plan_run
from .recipe import build_lora_model, padded_row_tokens

DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@dataclass
class Prepared:
    run_cfg: ProjectConfig
    tokenizer: object
    model: object
    train_rows: list
    eval_rows: list
    device: str
    total_steps: int
    steps_per_epoch: int
    pid: int
    fused_loss: bool
    pad_to: int  # every row's length in tokens (compiled flex attention), 0: rows as packed
    recall_pairs: list  # held-out phrasings of trained facts, asked after each evaluation (recall check)
    unseen_pairs: list  # questions about passages left out of training, asked with them


def log(message: str) -> None:
    print(message, flush=True)


def pick_run(project: Project, run_dir: Path | None, resume: bool) -> Run:
    """The given folder, the newest resumable run (``resume``), or a new run folder."""
    if run_dir is None and not resume:
        return Run(project.new_run_dir())
    run = Run(run_dir) if run_dir else newest_resumable_run(project)
    if run is None:
        raise TrainingError("there is no interrupted or stopped run to resume; start a new training")
    if resume and not run.config_path.is_file():
        raise TrainingError(f"{run.name} has no saved configuration: it cannot be resumed")
    if resume and run.outcome() == "completed":
        raise TrainingError(f"run {run.name} already completed; start a new training instead")
    run.folder.mkdir(parents=True, exist_ok=True)
    return run


def claim_run(project: Project, run_dir: Path | None, resume: bool, token: str | None = None) -> tuple[Run, dict]:
    """The run to train in (``pick_run``) with the project's training lock taken for its folder
    (``lock.acquire_lock``; ``token``: the lock handed over by the runner); returns the run and
    the lock record. A refused claim leaves no new run folder behind."""
    lock = active_lock(project.root)
    if lock is not None and (token is None or lock.get("token") != token):
        raise busy_error(lock)
    created = run_dir is None and not resume
    run = pick_run(project, run_dir, resume)
    try:
        return run, acquire_lock(project.root, run.folder, token=token)
    except TrainingBusy:
        if created:
            run.folder.rmdir()
        raise


def prepare(project: Project, run: Run, project_cfg: ProjectConfig | None, resume: bool, dist: Dist) -> Prepared:
    """Plan, data, model and record for one run (see the module docstring)."""
    import torch

    if dist.main:
        run.write_status("loading", message="preparing the data", pid=os.getpid())
    plan = plan_run(project, run.config() if resume else project_cfg or project.load_config())
    torch.manual_seed(plan.run_cfg.train.seed)
    train_data, eval_data = training_data(plan)
    preset = run.data_record().get("preset", "custom") if resume else plan.preset
    record = data_record(plan, train_data, eval_data, preset)
    if dist.main:
        check_same_data(run, record["fingerprint"], resume)
        save_plan(run, plan, record)
        run.write_status("loading", message="loading the base model", pid=os.getpid())
    device, tc = device_for(dist), plan.run_cfg.train
    model = build_lora_model(tc, device, plan.gradient_checkpointing)
    if dist.main:
        record["quantized_linear_layers"] = sum(type(m).__module__.startswith("bitsandbytes") and type(m).__name__ == "Linear4bit"
                                                 for m in model.modules())
        write_json(run.data_path, record)
    per_epoch, total = optimizer_steps(len(train_data.rows), tc, dist.world)
    return Prepared(plan.run_cfg, plan.tokenizer, model, train_data.rows, eval_data.rows, device, total, per_epoch,
                    os.getpid(), plan.fused_loss, padded_row_tokens(device, tc.longest_row_tokens),
                    plan.splits.recall, plan.splits.unseen)


def training_data(plan: RunPlan) -> tuple[PreparedData, PreparedData]:
    """The plan's examples (train) and held-out pairs (eval loss) tokenized, truncated and packed."""
    if not plan.pairs:
        raise TrainingError("no accepted pairs to train on: generate pairs and accept at least a few first")
    tc, system_prompt = plan.run_cfg.train, plan.run_cfg.chat.system_prompt
    row_tokens = tc.packed_row_tokens
    held_out = [pair_messages(p.question, p.answer, system_prompt) for p in plan.splits.held_out]
    train_data, eval_data = (prepare_rows(plan.tokenizer, conversations, tc.max_seq_tokens, row_tokens, tc.seed)
                             for conversations in (plan.mix.conversations(), held_out))
    if not train_data.rows:
        raise TrainingError(f"all {len(plan.splits.train)} training pairs were dropped: their questions are longer "
                            f"than max_seq_tokens ({tc.max_seq_tokens}); raise it or shorten the pairs")
    return train_data, eval_data


def data_record(plan: RunPlan, train_data: PreparedData, eval_data: PreparedData, preset: str) -> dict:
    """What the run learns from and how: the ``data.json`` record."""
    splits = plan.splits
    return {"fingerprint": data_fingerprint(plan.pairs), "train_pairs": len(splits.train),
            "eval_pairs": len(splits.held_out), "recall_pairs": len(splits.recall), "unseen_pairs": len(splits.unseen),
            "facts": plan.facts, "examples": plan.mix.counts(),
            "truncated": train_data.truncated + eval_data.truncated,
            "dropped": train_data.dropped + eval_data.dropped, "train_tokens": train_data.tokens,
            "base_model": plan.run_cfg.train.base_model, "preset": preset, "hardware": asdict(plan.hardware),
            "memory_estimate_bytes": plan.memory_bytes, "gradient_checkpointing": plan.gradient_checkpointing,
            "warnings": plan.warnings}


def save_plan(run: Run, plan: RunPlan, record: dict) -> None:
    """Write the data record, the held-out pairs and the resolved config into the run; log the plan."""
    write_json(run.data_path, record)
    run.save_heldout(plan.splits)
    plan.run_cfg.save(run.config_path)
    tc = plan.run_cfg.train
    log(f"plan: preset {record['preset']}, {plan.hardware.name}, examples of up to {tc.max_seq_tokens} tokens in rows of "
        f"{tc.packed_row_tokens}, {tc.grad_accum} row(s) a step, LoRA rank {tc.lora_rank}, estimated memory "
        f"{plan.memory_bytes / 2**30:.1f} GiB, gradient checkpointing {'on' if plan.gradient_checkpointing else 'off'}")
    for warning in plan.warnings + dropped_warnings(record):
        log(f"warning: {warning}")


def dropped_warnings(record: dict) -> list[str]:
    notes = [f"{record['truncated']} pair(s) were truncated to fit max_seq_tokens"] if record["truncated"] else []
    return notes + ([f"{record['dropped']} pair(s) were dropped: no answer token fits"] if record["dropped"] else [])


def check_same_data(run: Run, new_fingerprint: str, resume: bool) -> None:
    old = run.data_record().get("fingerprint")
    if resume and old and old != new_fingerprint:
        raise TrainingError("the pairs changed since this run started, so it cannot be resumed; start a new training")


def failure_message(exc: BaseException, run: Run) -> str:
    """One line for the status file: what went wrong, what to do, and whether a checkpoint survives."""
    kept = complete_checkpoints(run.folder)
    keep = (f" The last checkpoint ({kept[0].name}) is intact: fix this, then resume "
            "(`dab train --project P --resume`).") if kept else ""
    if is_out_of_memory(exc):
        return ("out of memory: choose the Quick preset, 4-bit loading, a shorter max_seq_tokens or a smaller "
                "micro_batch." + keep)
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        return "the disk is full: free some space (checkpoints need room for a copy of the adapter)." + keep
    if isinstance(exc, BuilderError):
        return str(exc)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"training failed: {type(exc).__name__}: {text}" + keep


def is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(exc, RuntimeError) and ("out of memory" in str(exc) or "can't allocate memory" in str(exc))
