"""Data-parallel training under accelerate: ``dab train --accelerate-config FILE`` checks the config
against the machine, then runs ``accelerate launch``; on CPU, 2 processes (gloo) train in step and
save one adapter, copying the model (DDP) or sharding it (FSDP, 4-bit); a rank that dies ends the
others and leaves the last complete checkpoint usable.

    .venv/bin/python -m pytest tests/test_train_ddp.py -q
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from builder.errors import ConfigError
from builder.storage import read_json, read_jsonl
from builder.train.checkpoint import load_checkpoint, load_latest_checkpoint
from builder.train.distributed import accelerate_command, check_accelerate_config, read_accelerate_config
from dab.cli import main

from .support import adapter_tensors, build_template, copy_project, free_port

ENV = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path.cwd())}


def ddp_config(folder: Path, processes: int = 2, kind: str = "MULTI_GPU", **extra) -> Path:
    """An ``accelerate config`` file for ``processes`` data-parallel processes on this machine."""
    lines = ["compute_environment: LOCAL_MACHINE", f"distributed_type: {kind}", f"num_processes: {processes}",
             "num_machines: 1", "machine_rank: 0", "mixed_precision: 'no'", "dynamo_config: {}",
             f"main_process_port: {free_port()}", *(f"{k}: {v}" for k, v in extra.items())]
    path = folder / "ddp.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("config, gpus, cores, processes", [
    ({"distributed_type": "MULTI_GPU", "num_processes": 8}, 8, 2, 8),
    ({"distributed_type": "MULTI_GPU", "num_processes": 16, "num_machines": 2}, 8, 2, 8),
    ({"distributed_type": "MULTI_GPU", "num_processes": 2}, 0, 2, 2),  # CPU processes, gloo
    ({"distributed_type": "NO"}, 1, 2, 1),
    ({"distributed_type": "FSDP", "num_processes": 2}, 0, 2, 2),
])
def test_configs_that_fit_the_machine(config, gpus, cores, processes):
    assert check_accelerate_config(config, gpus, cores) == processes


@pytest.mark.parametrize("config, gpus, cores, reason", [
    ({"distributed_type": "MULTI_GPU", "num_processes": 4}, 2, 64, "asks for 4 processes on this machine, but it has 2 usable GPU(s)"),
    ({"distributed_type": "MULTI_GPU", "num_processes": 4, "gpu_ids": "0,1"}, 8, 64, "it has 2 usable GPU(s)"),
    ({"distributed_type": "MULTI_GPU", "num_processes": 3}, 0, 2, "asks for 3 processes on this machine, but it has 2 CPU cores"),
    ({"distributed_type": "MULTI_GPU", "num_processes": 4, "use_cpu": True}, 8, 2, "2 CPU cores"),
    ({"distributed_type": "FSDP", "num_processes": 4}, 2, 64, "asks for 4 processes on this machine, but it has 2 usab"),
    ({"distributed_type": "DEEPSPEED"}, 2, 8, "not DEEPSPEED: DeepSpeed is not supported"),
    ({"distributed_type": "FSDP", "fsdp_config": {"fsdp_offload_params": True}}, 2, 8, "fsdp_offload_params is not supported"),
    ({"num_processes": 0}, 2, 8, "num_processes must be a whole number from 1, not 0"),
    ({"num_processes": "two"}, 2, 8, "num_processes must be a whole number"),
])
def test_configs_the_machine_cannot_run_are_refused(config, gpus, cores, reason):
    with pytest.raises(ConfigError, match=re.escape(reason)):
        check_accelerate_config(config, gpus, cores)


def test_dab_train_refuses_a_config_asking_for_more_processes_than_the_machine_has(tmp_path, capsys):
    config = ddp_config(tmp_path, processes=(os.cpu_count() or 1) + 1)  # no GPU here: CPU cores count
    assert main(["train", "--project", str(tmp_path / "nowhere"), "--accelerate-config", str(config)]) == 2
    assert f"asks for {(os.cpu_count() or 1) + 1} processes on this machine" in capsys.readouterr().err
    assert main(["train", "--project", str(tmp_path), "--accelerate-config", str(tmp_path / "missing.yaml")]) == 2
    assert "no accelerate config at" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="not a mapping"):
        read_accelerate_config(tmp_path / "bad.yaml")
    assert accelerate_command(config, ["--project", "P"])[1:] == [
        "-m", "accelerate.commands.launch", "--config_file", str(config), "-m", "builder.train", "--project", "P"]


@pytest.mark.slow
def test_two_cpu_ranks_train_in_sync_and_save_one_adapter(tmp_path, tiny_model_dir, monkeypatch, capfd):
    template = build_template(tmp_path / "template", tiny_model_dir)
    project = copy_project(template, tmp_path / "p", max_steps=4, eval_every_steps=2)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    code = main(["train", "--project", str(project.root), "--accelerate-config", str(ddp_config(tmp_path))])
    output = "".join(capfd.readouterr())
    assert code == 0, output[-3000:]

    ranks = dict(re.findall(r"rank (\d)/2: trained to step 4, \d+ tokens, LoRA checksum ([\d.]+)", output))
    assert set(ranks) == {"0", "1"}, output[-3000:]
    assert ranks["0"] == ranks["1"], "both ranks applied the same averaged updates"
    runs = list(project.runs_dir.iterdir())
    assert len(runs) == 1, "both ranks wrote into one run folder"
    adapters = list(project.root.rglob("adapter_model.safetensors"))
    assert [p.parent.name for p in adapters if p.parent.name == "adapter"] == ["adapter"]
    status = read_json(runs[0] / "status.json")
    assert status["state"] == "completed" and status["step"] == 4
    assert read_json(runs[0] / "data.json")["train_pairs"] > 50


@pytest.mark.slow
def test_two_cpu_ranks_shard_a_4bit_model_and_save_the_best_adapter_whole(tmp_path, tiny_model_dir, monkeypatch, capfd):
    template = build_template(tmp_path / "template", tiny_model_dir)
    project = copy_project(template, tmp_path / "p", quantize="4bit", max_steps=4, eval_every_steps=2)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    config = ddp_config(tmp_path, kind="FSDP", fsdp_config="{fsdp_version: 2}")
    code = main(["train", "--project", str(project.root), "--accelerate-config", str(config)])
    output = "".join(capfd.readouterr())
    assert code == 0, output[-3000:]

    shards = re.findall(r"rank (\d)/2 holds (\d+) of (\d+) weight values", output)
    assert {rank for rank, _, _ in shards} == {"0", "1"}, output[-3000:]
    for _, held, total in shards:
        assert int(held) < 0.6 * int(total), "each rank holds about half of the model, not a copy"
    ranks = dict(re.findall(r"rank (\d)/2: trained to step 4, \d+ tokens, LoRA checksum ([\d.]+)", output))
    assert set(ranks) == {"0", "1"} and ranks["0"] == ranks["1"], output[-3000:]
    run = next(project.runs_dir.iterdir())
    status = read_json(run / "status.json")
    assert status["state"] == "completed" and status["step"] == 4
    assert read_json(run / "data.json")["quantized_linear_layers"] > 0
    metrics = [row for row in read_jsonl(run / "metrics.jsonl") if "eval_loss" in row]
    assert [row["step"] for row in metrics] == [2, 4] and all(row["recall"] is not None for row in metrics)

    best = load_checkpoint(run / "checkpoints" / f"step-{status['adapter_step']:06d}")
    adapter = adapter_tensors(run / "adapter")
    assert set(adapter) == set(best.weights) and len(adapter) == 2 * 7 * 2, "A and B of 7 linear layers a block, 2 blocks"
    assert all(torch.equal(adapter[name], best.weights[name]) for name in adapter), "the kept step's weights, whole"


def worker_of_rank(launcher: int, rank: int) -> int | None:
    """The pid of the launcher's training worker with RANK=``rank`` (read from /proc), if started."""
    for child in Path("/proc").iterdir():
        try:
            environ = (child / "environ").read_bytes().split(b"\0")
            status = (child / "status").read_text()
        except (OSError, ValueError):
            continue
        ppid = re.search(r"PPid:\s+(\d+)", status)
        if ppid and int(ppid[1]) == launcher and f"RANK={rank}".encode() in environ:
            return int(child.name)
    return None


@pytest.mark.slow
def test_a_rank_dying_ends_the_others_and_the_last_checkpoint_stays_usable(tmp_path, tiny_model_dir):
    template = build_template(tmp_path / "template", tiny_model_dir)
    project = copy_project(template, tmp_path / "p", max_steps=400, checkpoint_every_steps=1, eval_every_steps=50)
    cmd = accelerate_command(ddp_config(tmp_path), ["--project", str(project.root)])
    launcher = subprocess.Popen(cmd, env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not list(project.runs_dir.glob("*/checkpoints/step-*/CHECKPOINT_COMPLETE")):
            assert launcher.poll() is None, launcher.stdout.read().decode()[-3000:]
            time.sleep(0.2)
        victim = worker_of_rank(launcher.pid, 1)
        assert victim, "no rank-1 worker found"
        os.kill(victim, signal.SIGKILL)
        output = launcher.communicate(timeout=120)[0].decode()
    finally:
        launcher.kill()
    assert launcher.returncode != 0 and worker_of_rank(launcher.pid, 0) is None, output[-3000:]
    run = next(project.runs_dir.iterdir())
    checkpoint = load_latest_checkpoint(run, log=lambda *_: None)
    assert checkpoint is not None and 1 <= checkpoint.step < 400
    assert read_json(run / "status.json")["state"] != "completed"
