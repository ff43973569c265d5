"""The training recipe: which weights, attention backend and kernels the model trains with.

    model = build_lora_model(run_cfg.train, device="cuda:0", checkpointing=False)

CUDA: 4-bit NF4 with double quantization and bf16 compute (``quantize: auto``), LoRA on all
linear layers, the frozen model left in its storage dtypes (no ``prepare_model_for_kbit_training``,
which upcasts it to fp32 and is ~2.4x slower), flex attention so packed rows get block-sparse
sequence boundaries, Liger kernels (fused linear cross-entropy, RMSNorm, RoPE, SwiGLU) when the
``liger-kernel`` extra is installed, and non-reentrant gradient checkpointing only when the
memory plan asks for it. CPU: fp32 LoRA by default (bf16 is far slower on most CPUs), 4-bit
with ``quantize: 4bit``, sdpa attention run on each packed example of a row by itself
(``attention.packed_sdpa``; flex attention has no CPU backward), SiLU-gated MLPs that keep
one activation fewer for backward (``swiglu.fuse_swiglu``, Liger's SwiGLU idea) and RMSNorms that
keep their output, which their LoRA layers keep anyway, instead of their input (``rmsnorm.fuse_rmsnorm``).
"""

import functools

from ..config import TrainConfig
from ..models import load_model
from .attention import packed_sdpa
from .rmsnorm import fuse_rmsnorm
from .swiglu import fuse_swiglu


FLEX_BLOCK_TOKENS = 128


def attention_backend(device: str) -> str:
    return "flex_attention" if device.startswith("cuda") else packed_sdpa()


def padded_row_tokens(device: str, row_tokens: int) -> int:
    """The one row length for compiled flex attention (a multiple of its 128-token blocks), or
    0 (no padding) for sdpa, which runs any length without compiling."""
    if attention_backend(device) != "flex_attention":
        return 0
    return -(-row_tokens // FLEX_BLOCK_TOKENS) * FLEX_BLOCK_TOKENS


def build_lora_model(tc: TrainConfig, device: str, checkpointing: bool):
    """Base model (4-bit when configured) with LoRA adapters on all linear layers, in training mode.

    ``from_pretrained`` returns a model in eval mode, where transformers skips gradient
    checkpointing and Liger's forward computes full logits instead of its fused loss: a model
    left there trains with neither until its first evaluation (on an H200, a 0.5B model's
    8,192-token step peaked at 28 GB with or without checkpointing)."""
    from peft import LoraConfig, get_peft_model

    model = load_model(tc.base_model, quantize=tc.quantize, trust_remote_code=tc.trust_remote_code,
                       device=device, attn_implementation=attention_backend(device))
    model.config.use_cache = False
    if device.startswith("cuda"):
        apply_liger_kernels(model)
    else:
        fuse_swiglu(model)
        fuse_rmsnorm(model)
        keep_4bit_layout(model)
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    lora = LoraConfig(r=tc.lora_rank, lora_alpha=tc.lora_alpha, lora_dropout=tc.lora_dropout,
                      target_modules="all-linear", task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    model.train()
    return model


def keep_4bit_layout(model) -> None:
    """Stop bitsandbytes from repacking 4-bit weights for CPU inference.

    On CPUs with AVX512-BF16, a 4-bit layer's first forward in eval mode repacks its weight in
    place into a layout only an inference kernel (``gemv_4bit``) reads. Training forwards after an
    evaluation then run that kernel, which has no backward: the gradient through the frozen
    weight is silently lost (torch warns "an autograd kernel was not registered"). Under FSDP the
    repacked layout also disagrees with the shards gathered for the next forward (the loss jumped
    from 2.6 to 26). Training evaluates between steps, so its model keeps the trainable layout."""
    for layer in model.modules():
        if getattr(layer, "support_avx512bf16_for_cpu", False):
            layer.support_avx512bf16_for_cpu = False


def liger_available() -> bool:
    from transformers.utils import is_liger_kernel_available

    return is_liger_kernel_available()


def apply_liger_kernels(model) -> bool:
    """Patch the model with Liger's fused kernels when the optional package is installed."""
    if not liger_available():
        return False
    from transformers.integrations.liger import apply_liger_kernel

    apply_liger_kernel(model, {})
    return True


def next_token_loss(model, batch: dict, fused: bool = False):
    """Mean next-token cross-entropy over label tokens, as ``model(**batch).loss`` computes it.

    Without fused kernels, logits are computed only at positions followed by a label (the
    answer), not for the system prompt and question: the vocabulary projection is the largest
    single matmul of a small model, and its fp32 logits the largest activation. Their gradient
    is then computed in the logits' own memory (``AnswerCrossEntropy``). With Liger (``fused``)
    the model's own fused linear cross-entropy already avoids materialising logits.
    """
    if fused:
        return model(**batch).loss
    labels = batch["labels"][0]
    keep = (labels[1:] != -100).nonzero().squeeze(-1)
    logits = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], logits_to_keep=keep).logits
    return answer_cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels[keep + 1])


def answer_cross_entropy(logits, targets):
    """``cross_entropy(logits, targets)`` (mean) that overwrites ``logits`` with its gradient.

    ``torch.nn.functional.cross_entropy`` keeps its log-softmax for the backward pass and then
    allocates two more logits-sized tensors there, while every layer's activations are still
    alive: on CPU (fp32, 512-token rows, 49k vocabulary) ~170 MB at the peak. Here the gradient
    (softmax - one-hot) / n is computed in forward, in place, and scaled in place in backward, so
    the logits' memory is the only vocabulary-sized buffer. So ``logits`` must not be used by
    anything else afterwards: the frozen output projection and a final scaling or soft-capping
    (``logits * cap`` after the tanh) do not keep them, and autograd's version check raises if
    some other last layer did; and the graph is backpropagated once."""
    return _answer_cross_entropy().apply(logits, targets)


@functools.cache
def _answer_cross_entropy():
    import torch

    class AnswerCrossEntropy(torch.autograd.Function):
        @staticmethod
        def forward(ctx, logits, targets):
            log_norm = torch.logsumexp(logits, dim=-1)
            loss = (log_norm - logits.gather(-1, targets[:, None]).squeeze(-1)).mean()
            grad = logits.sub_(log_norm[:, None]).exp_()
            grad[torch.arange(len(targets), device=grad.device), targets] -= 1
            ctx.save_for_backward(grad.div_(len(targets)))
            return loss

        @staticmethod
        def backward(ctx, grad_loss):
            return ctx.saved_tensors[0].mul_(grad_loss), None

    return AnswerCrossEntropy
