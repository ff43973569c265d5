"""A run's plan, before any weights load: the config it trains with, its data split and memory.

    plan = plan_run(project, project_cfg)
    plan.run_cfg             # the config the run trains with: preset applied (``preset: custom``),
                         # the system prompt resolved (the domain preset's unless the user wrote one)
    plan.preset          # the preset that was chosen (recorded in the run's data.json)
    plan.memory_bytes, plan.gradient_checkpointing, plan.warnings
    plan.pairs, plan.splits (train / recall / unseen), plan.mix (the examples: closed-book,
    open-book, abstentions), plan.tokenizer, plan.hardware, plan.fused_loss
    plan.facts, plan.steps, plan.tokens   # facts taught; optimizer steps and tokens the run trains on
    expected_train_s(project, plan)       # (seconds, how it was estimated), or None: no basis to say

Training (``setup.prepare``) and the wizard's "Check memory and plan" both call it, so what the
wizard shows is what the run is made of. Only the model's config is read (``presets.model_shape``),
never its weights.

The expected time is the run's tokens at the speed the newest run of the same model on the same
kind of device measured in this project (its all-in rate: evaluations and checkpoints included);
on a CPU with no such run, at ``CPU_TOKENS_PER_S`` (the bundled 135M model's measured rate on two
cores) scaled by cores and model size, which is rough; on a GPU with no such run there is none.
"""

import math
import os

from dataclasses import dataclass, replace

from ..config import ProjectConfig, TrainConfig
from ..conversation import conversation_lengths
from ..models import load_tokenizer, resolve_model
from ..pairs import training_pairs
from ..project import Project
from ..records import Pair
from ..runs import chat_settings, project_runs
from ..splits import Splits, split_pairs
from .mix import Mix, training_conversations
from .presets import Hardware, detect_hardware, model_shape, plan_training
from .recipe import liger_available


@dataclass
class RunPlan:
    run_cfg: ProjectConfig
    preset: str
    hardware: Hardware
    memory_bytes: int
    gradient_checkpointing: bool
    warnings: list[str]
    fused_loss: bool
    tokenizer: object
    pairs: list[Pair]  # every usable pair, in the project's order (the data fingerprint)
    splits: Splits
    mix: Mix
    example_tokens: int  # one pass over the examples, each cut to max_seq_tokens
    example_rows: int  # the packed rows they fill (an example longer than a row takes one of its own)
    model_params: int

    @property
    def facts(self) -> int:
        return len({p.fact or p.id for p in self.splits.train})

    @property
    def steps(self) -> int:
        """Optimizer steps over the estimated rows, counted as the run counts them (``optimizer_steps``)."""
        return optimizer_steps(self.example_rows, self.run_cfg.train)[1]

    @property
    def tokens(self) -> int:
        tc = self.run_cfg.train
        return self.steps * tc.grad_accum * tc.packed_row_tokens if tc.max_steps else round(self.example_tokens * tc.epochs)


CPU_TOKENS_PER_S = 135.0  # bundled 135M model, 2 cores, all-in (bench/learn.py on the handbook: 134.5)
CPU_REFERENCE = (2, 135_000_000)  # (cores, parameters) CPU_TOKENS_PER_S was measured with
MIN_TIMED_STEPS = 10  # a run's rate after its first steps (model warm-up) is left behind


def optimizer_steps(rows: int, tc: TrainConfig, world: int = 1) -> tuple[int, int]:
    """(steps per pass, steps in all) over ``rows`` packed rows on ``world`` ranks: ``max_steps``
    when set, else the passes (``epochs``)."""
    per_epoch = max(1, math.ceil(rows / (tc.grad_accum * world)))
    return per_epoch, tc.max_steps or max(1, math.ceil(per_epoch * tc.epochs))


def plan_run(project: Project, project_cfg: ProjectConfig) -> RunPlan:
    """The next run's plan for the project's pairs on this machine (see the module docstring)."""
    run_cfg = replace(project_cfg)
    run_cfg.chat = chat_settings(run_cfg)  # the prompt training uses is the one chat uses later (config.yaml)
    tc = run_cfg.train
    pairs = training_pairs(project.pairs())
    splits = split_pairs(pairs, run_cfg.pairs)
    mix = training_conversations(project, splits, run_cfg)
    tokenizer = load_tokenizer(tc.base_model, tc.trust_remote_code)
    hardware = detect_hardware()
    fused_loss = hardware.device == "cuda" and liger_available()
    lengths = conversation_lengths(tokenizer, mix.conversations())
    shape = model_shape(resolve_model(tc.base_model), tc.trust_remote_code)
    plan = plan_training(tc, hardware, shape, lengths, fused_loss=fused_loss)
    run_cfg.train = replace(plan.train, preset="custom")
    cut = [min(n, run_cfg.train.max_seq_tokens) for n in lengths]
    row_tokens = run_cfg.train.packed_row_tokens
    rows = sum(n > row_tokens for n in cut) + math.ceil(sum(n for n in cut if n <= row_tokens) / row_tokens)
    return RunPlan(run_cfg, tc.preset, hardware, plan.memory_bytes, plan.gradient_checkpointing, plan.warnings,
                   fused_loss, tokenizer, pairs, splits, mix, sum(cut), rows, shape.params)


def expected_train_s(project: Project, plan: RunPlan) -> tuple[float, str] | None:
    """Seconds the run should take and the basis of the estimate (see the module docstring)."""
    rate = measured_rate(project, plan.run_cfg.train.base_model, plan.hardware.device)
    if rate:
        return plan.tokens / rate[0], f"at the {rate[0]:.0f} tokens/s run {rate[1]} measured here"
    if plan.hardware.device == "cpu":
        cores, params = CPU_REFERENCE
        rough = CPU_TOKENS_PER_S * (os.cpu_count() or 1) / cores * params / max(plan.model_params, 1)
        return plan.tokens / rough, f"rough: about {rough:.0f} tokens/s expected on this CPU"
    return None


def measured_rate(project: Project, base_model: str, device: str) -> tuple[float, str] | None:
    """(tokens/s, run name) of the newest run of ``base_model`` on ``device`` that trained a while."""
    for run in project_runs(project):  # newest first
        record = run.data_record()
        if record.get("base_model") != base_model or record.get("hardware", {}).get("device") != device:
            continue
        rates = [m["tokens_per_s"] for m in run.metrics() if m.get("tokens_per_s") and m.get("step", 0) >= MIN_TIMED_STEPS]
        if rates:
            return rates[-1], run.name
    return None
