"""A run's plan, before any weights load: the config it trains with, its data split and memory.

    plan = plan_run(project, project_cfg)
    plan.run_cfg             # the config the run trains with: preset applied (``preset: custom``),
                         # the system prompt resolved (the domain preset's unless the user wrote one)
    plan.preset          # the preset that was chosen (recorded in the run's data.json)
    plan.memory_bytes, plan.gradient_checkpointing, plan.warnings
    plan.pairs, plan.splits (train / recall / unseen), plan.mix (the examples: closed-book,
    open-book, abstentions), plan.tokenizer, plan.hardware, plan.fused_loss

Training (``setup.prepare``) and the wizard's "Check memory and plan" both call it, so what the
wizard shows is what the run is made of. Only the model's config is read (``presets.model_shape``),
never its weights.
"""

from dataclasses import dataclass, replace

from ..config import ProjectConfig
from ..conversation import conversation_lengths
from ..models import load_tokenizer, resolve_model
from ..pairs import training_pairs
from ..project import Project
from ..records import Pair
from ..runs import chat_settings
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
    return RunPlan(run_cfg, tc.preset, hardware, plan.memory_bytes, plan.gradient_checkpointing, plan.warnings,
                   fused_loss, tokenizer, pairs, splits, mix)
