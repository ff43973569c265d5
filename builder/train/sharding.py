"""Fully sharded data parallel (FSDP2) for models too large to train on one device, and the
whole-tensor views of trainable weights and optimizer state that checkpoints are made of.

    accelerate launch --config_file fsdp.yaml -m builder.train --project P   # distributed_type: FSDP

With ``distributed_type: FSDP`` accelerate's launcher starts the processes and sets
``ACCELERATE_USE_FSDP``; ``shard_model`` then shards the model itself with torch's ``fully_shard``
(FSDP2, whatever ``fsdp_version`` says): every decoder layer is one unit and the rest of the
model (embeddings, final norm, output layer) the root unit. Of the config's ``fsdp_*`` settings
only the resharding after forward is read (``fsdp_reshard_after_forward``, or a
``fsdp_sharding_strategy`` of ``SHARD_GRAD_OP``/``NO_SHARD`` to keep layers gathered); the recipe
picks dtypes and gradient checkpointing, and ``distributed.check_accelerate_config`` refuses CPU
offload.

Each rank keeps 1/N of every weight: the frozen 4-bit ones (stored in the compute dtype,
``bnb_4bit_quant_storage``, so they shard like any tensor), the LoRA ones, and the LoRA weights'
optimizer state. A unit's weights are gathered for its forward and backward and freed after.
accelerate's own FSDP plugin acts only on GPU launches; calling ``fully_shard`` here runs the
same code with gloo on CPU, which is how it is tested.

Under sharding every forward is a collective, so the loop keeps the ranks in step: gradients are
reduced at every micro-batch, evaluation gives each rank as many rows, and generation runs with
``synced_gpus``. Checkpoints and the adapter hold whole tensors (``whole_trainable_state``,
``whole_optimizer_state``: gathered from all ranks, so every rank must call them), in the layout
of an unsharded run: a run resumes sharded or not, whichever way it was trained.

Limits: each rank loads the whole quantized model before sharding it (bitsandbytes' 4-bit
weights cannot be built on the meta device), so every device must hold the 4-bit model once at
start-up; sharding then frees N-1 parts of it for the activations and optimizer state.
"""

import os

from ..errors import TrainingError

KEEP_GATHERED = {"false", "0", "no", "shard_grad_op", "no_shard", "hybrid_shard_zero2"}  # accelerate's ways to say "do not reshard"


def sharding_requested() -> bool:
    """Whether the launcher asked for FSDP (``accelerate launch`` with ``distributed_type: FSDP``)."""
    return os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true"


def shard_model(model):
    """Shard a PEFT model in place: each decoder layer (the classes the model names in
    ``_no_split_modules``), then the base model as the root unit. The root is the base model, not
    the PEFT wrapper, because ``generate`` calls the base model directly and the root's hooks
    must run for it to gather the embeddings."""
    from torch.distributed.fsdp import fully_shard

    base = model.get_base_model()
    layer_classes = set(getattr(base, "_no_split_modules", None) or [])
    reshard = reshard_after_forward()
    layers = [module for module in base.modules() if type(module).__name__ in layer_classes]
    if not layers:
        raise TrainingError(f"FSDP needs the model's decoder layers, and {type(base).__name__} names none "
                            "(_no_split_modules): train it data parallel (distributed_type MULTI_GPU) instead")
    for layer in layers:
        fully_shard(layer, reshard_after_forward=reshard)
    fully_shard(base, reshard_after_forward=reshard)
    return model


def reshard_after_forward() -> bool:
    """Whether each unit frees its gathered weights after its forward (less memory, one more
    gather in backward): the launcher's ``FSDP_RESHARD_AFTER_FORWARD`` (FSDP2 configs) or
    ``FSDP_SHARDING_STRATEGY`` (FSDP1 configs); yes unless one of them says otherwise."""
    settings = (os.environ.get("FSDP_RESHARD_AFTER_FORWARD", ""), os.environ.get("FSDP_SHARDING_STRATEGY", ""))
    return not any(value.strip().lower() in KEEP_GATHERED for value in settings)


def weight_values_held(model) -> tuple[int, int]:
    """How many weight values this rank holds, and how many the whole model has."""
    from torch.distributed.tensor import DTensor

    params = list(model.parameters())
    held = sum(p.to_local().numel() if isinstance(p, DTensor) else p.numel() for p in params)
    return held, sum(p.numel() for p in params)


def unwrapped(model):
    """The model under a DistributedDataParallel wrapper (FSDP2 shards in place: no wrapper)."""
    return getattr(model, "module", model)


def whole(tensor):
    """The full tensor of a sharded one (gathered from every rank); any other tensor as it is."""
    from torch.distributed.tensor import DTensor

    return tensor.full_tensor() if isinstance(tensor, DTensor) else tensor


def shard_like(tensor, param):
    """``tensor`` (whole) as ``param`` holds it: this rank's shard under FSDP, else on its device."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    tensor = tensor.to(dtype=param.dtype)
    if isinstance(param, DTensor):
        return distribute_tensor(tensor, param.device_mesh, param.placements, src_data_rank=None)
    return tensor.to(param.device)


def whole_trainable_state(model) -> dict:
    """Every trainable tensor, whole and on CPU, by parameter name."""
    return {name: whole(param.detach()).contiguous().cpu()
            for name, param in unwrapped(model).named_parameters() if param.requires_grad}


def load_trainable_state(model, state: dict) -> None:
    """Copy whole tensors (by parameter name, as ``whole_trainable_state`` gives them) into the
    model's trainable parameters, each rank taking its own shard."""
    import torch

    with torch.no_grad():
        for name, param in unwrapped(model).named_parameters():
            if param.requires_grad:
                param.copy_(shard_like(state[name], param))


def whole_optimizer_state(optimizer) -> dict:
    """``optimizer.state_dict()`` with every sharded state tensor gathered whole."""
    state = optimizer.state_dict()
    state["state"] = {index: {key: whole(value) for key, value in values.items()}
                      for index, values in state["state"].items()}
    return state


def load_optimizer_state(optimizer, state: dict) -> None:
    """Load a whole optimizer state; under FSDP each parameter's moments are then cut to this
    rank's shard (``load_state_dict`` leaves them whole beside sharded parameters)."""
    import torch

    optimizer.load_state_dict(state)
    for group in optimizer.param_groups:
        for param in group["params"]:
            moments = optimizer.state.get(param, {})
            for key, value in moments.items():
                if torch.is_tensor(value) and value.dim() and value.shape == param.shape:
                    moments[key] = shard_like(value, param)
