"""Data-parallel training (DDP, or FSDP) when started by ``accelerate launch`` or ``torchrun``.

    dab train --project P --accelerate-config ddp.yaml       # checks the config, then runs the line below
    accelerate launch --config_file ddp.yaml -m builder.train --project P
    accelerate launch --multi_gpu --num_processes 2 -m builder.train --project P
    accelerate launch --config_file fsdp.yaml -m builder.train --project P   # sharded (``sharding``)

The launcher sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT``;
accelerate's ``PartialState`` joins the process group from them and ``Accelerator.prepare_model``
wraps the model for data parallel. Each process trains on its own share of the packed rows and
the LoRA gradients are averaged (NCCL on GPUs, gloo on CPU). Rank 0 alone writes metrics,
status, checkpoints and the adapter. With ``distributed_type: FSDP`` the model is sharded
instead of copied (``sharding.shard_model``). A single process (no launcher) runs with ``world == 1`` and
every helper here is a no-op. When a rank dies, the launcher (torchrun's agent) ends the others
and exits non-zero; the run keeps its last complete checkpoint (``--resume`` continues from it).

Multi-node: the same config on every machine with ``num_machines``, ``machine_rank``,
``main_process_ip`` and ``main_process_port`` set (``num_processes`` counts all machines' processes).

``check_accelerate_config`` refuses, before anything starts, a config asking for more processes
per machine than the machine has devices (GPUs; CPU cores without GPUs or with ``use_cpu``) and
the distributed types training does not run under (DeepSpeed is not wired in: FSDP shards the
same way ZeRO-3 does).
"""

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

DISTRIBUTED_TYPES = {"NO", "MULTI_GPU", "MULTI_CPU", "FSDP"}


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    sharded: bool = False  # FSDP: each rank holds a shard of the model, not a copy

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Dist:
    """Join the process group the launcher describes (accelerate's ``PartialState``: NCCL on GPUs,
    gloo on CPU), or return a single-process Dist without touching torch.distributed."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Dist()
    import torch
    from accelerate import PartialState

    from .sharding import sharding_requested

    state = PartialState(cpu=not torch.cuda.is_available())
    return Dist(state.process_index, state.num_processes, state.local_process_index, sharding_requested())


def teardown_distributed(dist: Dist) -> None:
    if dist.world > 1:
        from accelerate import PartialState

        PartialState().destroy_process_group()


def device_for(dist: Dist) -> str:
    import torch

    return f"cuda:{dist.local_rank}" if torch.cuda.is_available() else "cpu"


def wrap_model(model, dist: Dist):
    """The model as ``Accelerator.prepare_model`` wraps it for data parallel (DistributedDataParallel
    over the trainable LoRA weights), sharded in place under FSDP; unchanged for one process. The
    model is already on its device, and the recipe chose its dtypes: no mixed-precision autocast
    from the launcher's config. The optimizer is built afterwards, over the parameters as wrapped."""
    if dist.world <= 1:
        return model
    if dist.sharded:
        from .sharding import shard_model

        return shard_model(model)
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=device_for(dist) == "cpu", mixed_precision="no")
    return accelerator.prepare_model(model, device_placement=False)


def sum_across(values: list[float], dist: Dist) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (identity for one process)."""
    if dist.world <= 1:
        return list(values)
    import torch
    from accelerate.utils import reduce

    return reduce(torch.tensor(values, dtype=torch.float64, device=device_for(dist)), "sum").tolist()


def any_rank(flag: bool, dist: Dist) -> bool:
    """True on every rank if ``flag`` is true on at least one (keeps stop decisions in step)."""
    return sum_across([float(flag)], dist)[0] > 0


def from_rank0(value, dist: Dist):
    """Rank 0's ``value`` (any picklable object) on every rank."""
    if dist.world <= 1:
        return value
    from accelerate.utils import broadcast_object_list

    return broadcast_object_list([value], from_process=0)[0]


def barrier(dist: Dist) -> None:
    if dist.world > 1:
        from accelerate import PartialState

        PartialState().wait_for_everyone()


def read_accelerate_config(path: Path) -> dict:
    """An ``accelerate config`` file (YAML or JSON) as a mapping; ConfigError when missing or malformed."""
    import yaml

    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"no accelerate config at {path}") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"the accelerate config {path} cannot be read: {str(exc).splitlines()[0]}") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"the accelerate config {path} is not a mapping of settings")
    return config


def whole_number(config: dict, key: str, default: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"the accelerate config's {key} must be a whole number from 1, not {value!r}")
    return value


def check_accelerate_config(config: dict, gpus: int, cpu_cores: int) -> int:
    """Processes per machine that ``config`` starts, after checking them against this machine's
    ``gpus`` (or ``cpu_cores`` without GPUs or with ``use_cpu``) and the distributed type."""
    kind = str(config.get("distributed_type", "NO")).upper()
    if kind == "FSDP" and str((config.get("fsdp_config") or {}).get("fsdp_offload_params", False)).lower() == "true":
        raise ConfigError("fsdp_offload_params is not supported: the 4-bit weights are already small; "
                          "add processes (GPUs) instead, or leave it false")
    if kind not in DISTRIBUTED_TYPES:
        raise ConfigError(f"training runs data parallel or sharded (distributed_type MULTI_GPU, FSDP or NO), "
                          f"not {kind}: DeepSpeed is not supported; FSDP shards the model the same way")
    per_machine = math.ceil(whole_number(config, "num_processes", 1) / whole_number(config, "num_machines", 1))
    on_cpu = gpus == 0 or bool(config.get("use_cpu"))
    ids = str(config.get("gpu_ids", "all")).strip()
    devices = cpu_cores if on_cpu else gpus if ids in {"all", "", "None"} else min(gpus, len(ids.split(",")))
    if per_machine > devices:
        what = f"{devices} CPU cores" if on_cpu else f"{devices} usable GPU(s)"
        raise ConfigError(f"the accelerate config asks for {per_machine} processes on this machine, "
                          f"but it has {what}: lower num_processes (or raise num_machines)")
    return per_machine


def accelerate_command(config_file: Path, train_argv: list[str]) -> list[str]:
    """``accelerate launch --config_file FILE -m builder.train ...`` with this Python."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config_file),
            "-m", "builder.train", *train_argv]


def launch_with_accelerate(config_file: Path, train_argv: list[str]) -> int:
    """Check the config against this machine, then run the training under ``accelerate launch``;
    returns its exit code (non-zero when a rank failed: the launcher has ended the others)."""
    import subprocess

    import torch

    check_accelerate_config(read_accelerate_config(config_file), torch.cuda.device_count(), os.cpu_count() or 1)
    return subprocess.run(accelerate_command(config_file, train_argv), check=False).returncode
