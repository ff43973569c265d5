"""Data-parallel training (DDP) when started by ``accelerate launch`` or ``torchrun``.

    accelerate launch --multi_gpu --num_processes 2 -m builder.train --project P

The launcher sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT``; each
process trains on its own share of the packed rows and DDP averages the LoRA gradients (NCCL on
GPUs, gloo on CPU). Rank 0 alone writes metrics, status, checkpoints and the adapter. A single
process (no launcher) runs with ``world == 1`` and every helper here is a no-op.

FSDP and DeepSpeed are not wired in: for models that do not fit one GPU in 4-bit, use an
``accelerate config`` FSDP setup with a training script of your own; LoRA on a 4-bit base fits
one GPU up to ~70B parameters, which covers what this product targets.
"""

import os
from dataclasses import dataclass


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Dist:
    """Join the process group the launcher describes, or return a single-process Dist."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch
    import torch.distributed as torch_dist

    dist = Dist(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not torch_dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(dist.local_rank)
        torch_dist.init_process_group(backend=backend)
    return dist


def teardown_distributed(dist: Dist) -> None:
    if dist.world > 1:
        import torch.distributed as torch_dist

        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()


def device_for(dist: Dist) -> str:
    import torch

    return f"cuda:{dist.local_rank}" if torch.cuda.is_available() else "cpu"


def wrap_model(model, dist: Dist):
    """Wrap in DistributedDataParallel when running with several processes."""
    if dist.world <= 1:
        return model
    import torch
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [dist.local_rank] if torch.cuda.is_available() else None
    return DistributedDataParallel(model, device_ids=device_ids)


def sum_across(values: list[float], dist: Dist) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (identity for one process)."""
    if dist.world <= 1:
        return list(values)
    import torch
    import torch.distributed as torch_dist

    tensor = torch.tensor(values, dtype=torch.float64, device=device_for(dist))
    torch_dist.all_reduce(tensor)
    return tensor.tolist()


def any_rank(flag: bool, dist: Dist) -> bool:
    """True on every rank if ``flag`` is true on at least one (keeps stop decisions in step)."""
    return sum_across([float(flag)], dist)[0] > 0


def broadcast_text(text: str, dist: Dist) -> str:
    """Rank 0's ``text`` on every rank."""
    if dist.world <= 1:
        return text
    import torch.distributed as torch_dist

    box = [text]
    torch_dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(dist: Dist) -> None:
    if dist.world > 1:
        import torch.distributed as torch_dist

        torch_dist.barrier()
