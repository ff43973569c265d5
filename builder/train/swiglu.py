"""SiLU-gated MLPs that keep one activation fewer for the backward pass (CPU training).

    fuse_swiglu(model)     # before LoRA is attached; returns how many MLPs now use ``silu_mul``

A Llama-style MLP computes ``down(silu(gate(x)) * up(x))``. Autograd keeps ``gate(x)`` for the
SiLU's backward and ``silu(gate(x))`` and ``up(x)`` for the product's: three [tokens ×
intermediate] tensors per layer until the backward pass reaches it. ``silu_mul`` keeps
``gate(x)`` and ``up(x)`` and recomputes the SiLU in backward (a few elementwise operations), as
Liger's SwiGLU kernel does on CUDA. On the bundled model's 512-token rows that is 30 layers ×
512 × 1,536 floats, ~94 MB less at the peak, with the same gradients (tested).
"""

import functools


def fuse_swiglu(model) -> int:
    """Route every MLP of ``model`` with ``gate_proj``/``up_proj``/``down_proj`` and a SiLU through
    ``silu_mul``; returns how many. The projections are looked up at each call, so LoRA layers
    attached later are used."""
    import torch
    from transformers.activations import SiLUActivation

    fused = 0
    for module in model.modules():
        gated = all(hasattr(module, name) for name in ("gate_proj", "up_proj", "down_proj"))
        if gated and isinstance(getattr(module, "act_fn", None), (torch.nn.SiLU, SiLUActivation)):
            module.forward = functools.partial(swiglu_forward, module)
            fused += 1
    return fused


def swiglu_forward(mlp, x):
    return mlp.down_proj(silu_mul(mlp.gate_proj(x), mlp.up_proj(x)))


def silu_mul(gate, up):
    """``silu(gate) * up``, keeping only ``gate`` and ``up`` for the backward pass."""
    return _silu_mul().apply(gate, up)


@functools.cache
def _silu_mul():
    import torch

    class SiluMul(torch.autograd.Function):
        @staticmethod
        def forward(ctx, gate, up):
            ctx.save_for_backward(gate, up)
            return torch.nn.functional.silu(gate) * up

        @staticmethod
        def backward(ctx, grad):
            gate, up = ctx.saved_tensors
            sigmoid = torch.sigmoid(gate)
            silu = gate * sigmoid
            grad_gate = grad * up * sigmoid * (1 + gate * (1 - sigmoid))  # d silu / d gate = s (1 + g (1 - s))
            return grad_gate, grad * silu

    return SiluMul
