"""Presets Quick / Balanced / Thorough and a memory estimate, from hardware, model and data.

    hardware = detect_hardware()                 # recommended_models(hardware): Hub models that suit it
    shape = model_shape("bundled")
    plan = plan_training(project_cfg.train, hardware, shape, pair_lengths)
    plan.train            # the resolved TrainConfig (epochs, lr, rank, lengths, batch, ...)
    plan.memory_bytes     # estimated peak memory of training
    plan.warnings         # e.g. dataset too small, pairs that will be truncated

A preset fixes the learning budget (epochs, learning rate, LoRA rank, and alpha = 2 x rank:
``lora_alpha``, which the wizard's own settings use too); the hardware, the model
and the pair lengths fix the shapes (sequence length, micro-batch, accumulation) and whether
gradient checkpointing is needed. ``preset: custom`` keeps the configured values and only
estimates memory and warns. The estimate adds up weights, LoRA weights with their gradients and
Adam state, activations, logits and the process's own footprint. On CPU its constants are fitted
to the peak resident memory of real training processes (``bench/memory.py``: the bundled model,
rows of 256 to 1024 tokens, ranks 4 to 64, all within 3%); on CUDA they are a rule of thumb that
picks shapes and warns early.
"""

import math
import os
from dataclasses import dataclass, field, replace

from ..config import TrainConfig

# Passes over the data, learning rate, rank; the best checkpoint is kept by the recall check, and
# Balanced stops after two checks without a better one: answers from the documents can peak early
# (handbook corpus: 14 of 40 hand-written questions right with step 68's adapter, 10 with the last,
# step 336's; bench/learn.py), and the steps after the peak only cost time.
PRESETS = {
    "quick": {"epochs": 2.0, "learning_rate": 5e-4, "lora_rank": 16},
    "balanced": {"epochs": 3.0, "learning_rate": 3e-4, "lora_rank": 16, "early_stopping_patience": 2},
    "thorough": {"epochs": 5.0, "learning_rate": 2e-4, "lora_rank": 32, "early_stopping_patience": 3},
}
MIN_OPTIMIZER_STEPS = 30  # a small corpus gets more passes, so that it is trained enough
MAX_EPOCHS = 10
RECOMMENDED_MODELS = (  # (minimum memory in GiB, Hub id): instruct models that fine-tune well with LoRA
    (0, "HuggingFaceTB/SmolLM2-360M-Instruct"), (0, "Qwen/Qwen2.5-0.5B-Instruct"),
    (8, "Qwen/Qwen2.5-1.5B-Instruct"), (8, "meta-llama/Llama-3.2-1B-Instruct"),
    (16, "Qwen/Qwen2.5-3B-Instruct"), (24, "Qwen/Qwen2.5-7B-Instruct"), (24, "meta-llama/Llama-3.1-8B-Instruct"),
)
LORA_ALPHA_PER_RANK = 2  # LoRA's scale is alpha / rank: 2 for every preset and for the wizard's own settings
MIN_PAIRS = 50
GIB = 1024**3
# Tokens per optimizer step. On CPU one 512-token row a step: the cost is per token either way,
# and more updates from the same tokens memorise facts faster (bench/memorise.py: after 4 passes
# over two documents' pairs, training loss 0.53 vs 1.79 with 2,048-token steps).
TOKENS_PER_STEP = {"cpu": 512, "cuda": 16384}
CPU_RUNTIME_BYTES = int(0.7 * GIB)  # Python, torch, transformers, peft, tokenizer, data (the imports alone: 0.4 GiB)
CPU_HIDDEN_VALUES = 6  # fp32 values per hidden unit, layer and token that autograd keeps on CPU (fitted)
MAX_SEQ_TOKENS = {"cpu": 1024, "cuda": 4096}


CUDA_ROW_TOKENS = 2048  # packed row length on CUDA when the pairs fit (one compiled attention shape per length)
CUDA_STEP_TOKENS = 8192  # tokens per micro-step the CUDA presets aim for (4 rows of 2,048)


@dataclass
class Hardware:
    device: str  # "cuda" or "cpu"
    memory_bytes: int
    name: str
    free_bytes: int = 0  # CUDA memory free when planned; 0: unknown, the total counts

    @property
    def budget_bytes(self) -> float:
        """What training may plan to use: 85% of the free memory (of the total when unknown)."""
        return 0.85 * (self.free_bytes or self.memory_bytes)


@dataclass
class ModelShape:
    params: int
    layers: int
    hidden: int
    intermediate: int
    vocab: int
    max_positions: int
    tied_embeddings: bool
    heads: int = 0  # attention heads; 0: unknown, taken as hidden / 64

    @property
    def attention_heads(self) -> int:
        return self.heads or max(1, self.hidden // 64)


@dataclass
class Plan:
    train: TrainConfig
    memory_bytes: int
    gradient_checkpointing: bool
    warnings: list[str] = field(default_factory=list)


def lora_alpha(rank: int) -> int:
    """The LoRA alpha that goes with ``rank`` (alpha = 2 x rank)."""
    return LORA_ALPHA_PER_RANK * rank


def detect_hardware() -> Hardware:
    """The first CUDA GPU (total memory), else this machine's CPU and RAM."""
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return Hardware("cuda", props.total_memory, props.name, torch.cuda.mem_get_info(0)[0])
    ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return Hardware("cpu", ram, f"CPU ({os.cpu_count()} cores)")


def recommended_models(hardware: Hardware) -> list[str]:
    """Hub models worth trying on ``hardware``: small ones on a CPU, more with more GPU memory."""
    if hardware.device != "cuda":
        return [model for need_gib, model in RECOMMENDED_MODELS if need_gib == 0]
    memory_gib = hardware.memory_bytes / GIB
    return [model for need_gib, model in RECOMMENDED_MODELS if need_gib <= memory_gib]


def model_shape(source: str, trust_remote_code: bool = False) -> ModelShape:
    """Parameter count and dimensions from the model's config (weights are never read)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code)
    with torch.device("meta"):
        params = sum(p.numel() for p in AutoModelForCausalLM.from_config(config).parameters())
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return ModelShape(params, text.num_hidden_layers, text.hidden_size,
                      getattr(text, "intermediate_size", 4 * text.hidden_size), text.vocab_size,
                      getattr(text, "max_position_embeddings", 2048), bool(getattr(config, "tie_word_embeddings", False)),
                      getattr(text, "num_attention_heads", 0) or 0)


def plan_training(tc: TrainConfig, hardware: Hardware, shape: ModelShape, pair_lengths: list[int],
                  fused_loss: bool = False) -> Plan:
    """Resolve the preset into concrete values, estimate memory, and collect warnings."""
    if tc.preset != "custom":
        preset = PRESETS[tc.preset]
        shapes = preset_shapes(hardware, shape, pair_lengths, tc)
        epochs = preset_epochs(preset["epochs"], pair_lengths, shapes)
        tc = replace(tc, **{**preset, "epochs": epochs}, lora_alpha=lora_alpha(preset["lora_rank"]), **shapes)
    four_bit = tc.quantize == "4bit" or (tc.quantize == "auto" and hardware.device == "cuda")
    row_tokens = tc.longest_row_tokens
    plain = estimate_memory(shape, hardware.device, four_bit, tc.lora_rank, row_tokens, False, fused_loss)
    budget = hardware.budget_bytes
    checkpointing = tc.gradient_checkpointing == "on" or (
        tc.gradient_checkpointing == "auto" and hardware.device == "cuda" and plain > budget)
    memory = estimate_memory(shape, hardware.device, four_bit, tc.lora_rank, row_tokens, checkpointing, fused_loss)
    return Plan(tc, memory, checkpointing, plan_warnings(tc, pair_lengths, memory, budget))


def preset_shapes(hardware: Hardware, shape: ModelShape, pair_lengths: list[int], tc: TrainConfig) -> dict:
    """Sequence length, micro-batch and accumulation for this hardware and data."""
    cap = min(MAX_SEQ_TOKENS[hardware.device], shape.max_positions)
    max_seq = min(cap, power_of_two(percentile(pair_lengths, 0.98) if pair_lengths else 512))
    longest = min(cap, power_of_two(max(pair_lengths, default=0)))
    total_tokens = sum(min(n, longest) for n in pair_lengths)
    micro_batch = 1
    if hardware.device == "cuda":
        max_seq, micro_batch, _ = cuda_rows(hardware.budget_bytes, shape, tc.lora_rank, max_seq, cap, total_tokens)
    else:  # one short row a step, however many long open-book examples there are (they get rows of their own)
        max_seq = min(max_seq, TOKENS_PER_STEP["cpu"])
    row_tokens = micro_batch * max_seq
    accum = max(1, round(TOKENS_PER_STEP[hardware.device] / row_tokens))
    accum = max(1, min(accum, total_tokens // (row_tokens * 10)))  # keep at least ~10 steps per epoch
    return {"max_seq_tokens": max(max_seq, longest), "row_tokens": row_tokens, "micro_batch": micro_batch,
            "grad_accum": accum}


def power_of_two(tokens: int) -> int:
    """The smallest power of two (at least 128) that holds ``tokens``."""
    return max(128, 2 ** math.ceil(math.log2(max(tokens, 1))))


def preset_epochs(epochs: float, pair_lengths: list[int], shapes: dict) -> float:
    """The preset's passes, raised (up to ``MAX_EPOCHS``) until training takes at least
    ``MIN_OPTIMIZER_STEPS`` optimizer steps: each example is then seen often enough to be learned."""
    row_tokens = shapes["row_tokens"]
    tokens = sum(min(n, shapes["max_seq_tokens"]) for n in pair_lengths)
    steps_per_epoch = max(1, math.ceil(tokens / row_tokens / shapes["grad_accum"]))
    return float(min(MAX_EPOCHS, max(epochs, math.ceil(MIN_OPTIMIZER_STEPS / steps_per_epoch))))


def cuda_rows(budget_bytes: float, shape: ModelShape, rank: int, min_row_tokens: int, max_row_tokens: int,
              total_tokens: int) -> tuple[int, int, bool]:
    """(row length, rows per micro-step, gradient checkpointing) that fill ``budget_bytes`` of GPU
    memory: rows of ``CUDA_ROW_TOKENS`` (or the longest pairs' length, if longer), as many as fit
    without checkpointing up to ``CUDA_STEP_TOKENS`` a step, but no more than a tenth of the data
    (so an epoch keeps ~10 steps); checkpointing only when one row does not fit without it. Row
    lengths are powers of two: a few fixed shapes, so compiled kernels are reused."""
    row = min(max_row_tokens, max(min_row_tokens, CUDA_ROW_TOKENS))
    while row > min_row_tokens and row > max(total_tokens // 10, 1):
        row //= 2
    most_rows = max(1, min(CUDA_STEP_TOKENS, total_tokens // 10) // row)
    for checkpointing in (False, True):
        for rows in (16, 8, 4, 2, 1):
            fits = estimate_memory(shape, "cuda", True, rank, rows * row, checkpointing, False) <= budget_bytes
            if rows <= most_rows and fits:
                return row, rows, checkpointing
    return min_row_tokens, 1, True


def estimate_memory(shape: ModelShape, device: str, four_bit: bool, rank: int, row_tokens: int,
                    checkpointing: bool, fused_loss: bool) -> int:
    """Peak bytes: frozen weights, LoRA weights+grads+Adam, activations, logits, runtime overhead."""
    embed = shape.vocab * shape.hidden * (1 if shape.tied_embeddings else 2)
    dense_bytes = 4 if device == "cpu" else 2
    weights = embed * dense_bytes + (shape.params - embed) * (0.53 if four_bit else dense_bytes)
    lora_params = rank * shape.layers * (10 * shape.hidden + 3 * shape.intermediate)
    if device == "cpu":
        activations, overhead = cpu_activation_bytes(shape, row_tokens, checkpointing), CPU_RUNTIME_BYTES
    else:
        per_layer_token = (2 if checkpointing else 34) * shape.hidden * dense_bytes / 2
        activations = row_tokens * (shape.layers * per_layer_token + (34 * shape.hidden * dense_bytes / 2 if checkpointing else 0))
        overhead = 0.5 * GIB
    logits = 0 if fused_loss else row_tokens * shape.vocab * 4 * 2
    return int(weights + lora_params * 16 + activations + logits + overhead)


def cpu_activation_bytes(shape: ModelShape, row_tokens: int, checkpointing: bool) -> float:
    """What autograd keeps for the backward pass on CPU (fp32, sdpa): per layer and token,
    ``CPU_HIDDEN_VALUES`` values per hidden unit and 4 per MLP unit (gate, up, activation,
    product), plus one fp32 attention score matrix per head (packed rows carry a mask, so sdpa
    runs its math kernel, whose memory grows with the square of the row). With checkpointing,
    each layer keeps only its input, and one layer at a time is recomputed in full."""
    layer = (row_tokens * (CPU_HIDDEN_VALUES * shape.hidden + 4 * shape.intermediate) * 4
             + shape.attention_heads * row_tokens**2 * 4)
    if checkpointing:
        return shape.layers * row_tokens * shape.hidden * 4 + layer
    return shape.layers * layer


def plan_warnings(tc: TrainConfig, pair_lengths: list[int], memory: int, budget: float) -> list[str]:
    warnings = []
    if len(pair_lengths) < MIN_PAIRS:
        warnings.append(f"only {len(pair_lengths)} training pairs: the model may learn little; "
                        f"aim for at least {MIN_PAIRS}, ideally a few hundred")
    longer = sum(n > tc.max_seq_tokens for n in pair_lengths)
    if longer:
        warnings.append(f"{longer} pair(s) are longer than {tc.max_seq_tokens} tokens and will be truncated")
    if memory > budget:
        warnings.append(f"estimated memory {memory / GIB:.1f} GiB exceeds the {budget / GIB:.1f} GiB available: "
                        "choose the Quick preset, 4-bit loading, or a shorter sequence length")
    return warnings


def percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def auto_interval(configured: int, total_steps: int, evaluations: int = 10) -> int:
    """A configured interval, or about ``evaluations`` intervals over the run when 0."""
    return configured or max(1, math.ceil(total_steps / evaluations))
