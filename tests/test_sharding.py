"""FSDP's whole-tensor views (``builder.train.sharding``): two gloo processes shard a 4-bit model
with LoRA; its loss, also after an evaluation, is the unsharded model's, and a run resumed from the
gathered weights and optimizer state takes exactly the step the uninterrupted run takes;
evaluation rows are shared out evenly under FSDP.

    .venv/bin/python -m pytest tests/test_sharding.py -q
"""

import copy
import os

import pytest
import torch

from builder.config import TrainConfig
from builder.errors import TrainingError
from builder.train.distributed import Dist
from builder.train.loop import rank_share

from .support import free_port


def test_every_rank_runs_as_many_evaluation_rows_under_fsdp_and_each_row_counts_once():
    rows = [[i] for i in range(5)]
    ddp = [rank_share(rows, Dist(rank, 2)) for rank in (0, 1)]
    assert [len(share) for share in ddp] == [3, 2] and all(counted for share in ddp for _, counted in share)
    fsdp = [rank_share(rows, Dist(rank, 2, sharded=True)) for rank in (0, 1)]
    assert [len(share) for share in fsdp] == [3, 3]
    counted = sorted(row[0] for share in fsdp for row, counts in share if counts)
    assert counted == [0, 1, 2, 3, 4]
    assert rank_share([], Dist(1, 2, sharded=True)) == []


@pytest.mark.parametrize("settings, reshard", [
    ({}, True),
    ({"FSDP_RESHARD_AFTER_FORWARD": "true", "FSDP_SHARDING_STRATEGY": "FULL_SHARD"}, True),
    ({"FSDP_RESHARD_AFTER_FORWARD": "false", "FSDP_SHARDING_STRATEGY": "FULL_SHARD"}, False),
    ({"FSDP_SHARDING_STRATEGY": "SHARD_GRAD_OP"}, False),
])
def test_layers_are_freed_after_forward_unless_the_config_keeps_them(monkeypatch, settings, reshard):
    from builder.train.sharding import reshard_after_forward

    for key in ("FSDP_RESHARD_AFTER_FORWARD", "FSDP_SHARDING_STRATEGY"):
        monkeypatch.delenv(key, raising=False)
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    assert reshard_after_forward() is reshard


def test_a_model_without_named_decoder_layers_is_refused_rather_than_gathered_whole(tiny_model_dir):
    from builder.train.recipe import build_lora_model
    from builder.train.sharding import shard_model

    model = build_lora_model(TrainConfig(base_model=str(tiny_model_dir), quantize="none", lora_rank=4), "cpu", False)
    model.get_base_model()._no_split_modules = None
    with pytest.raises(TrainingError, match="names none"):
        shard_model(model)


def sharded_model(model_dir: str, shard: bool = True):
    from builder.train.recipe import build_lora_model
    from builder.train.sharding import shard_model

    torch.manual_seed(0)
    model = build_lora_model(TrainConfig(base_model=model_dir, quantize="4bit", lora_rank=4, lora_dropout=0.0), "cpu", False)
    model = shard_model(model) if shard else model
    params = [p for p in model.parameters() if p.requires_grad]
    return model, params, torch.optim.AdamW(params, lr=1e-2)


def rank_batch(rank: int) -> torch.Tensor:
    return torch.randint(3, 200, (1, 24), generator=torch.Generator().manual_seed(rank))


def batch_loss(model, rank: int) -> float:
    with torch.no_grad():
        return model(input_ids=rank_batch(rank), labels=rank_batch(rank)).loss.item()


def train_step(model, optimizer, rank: int) -> None:
    model(input_ids=rank_batch(rank), labels=rank_batch(rank)).loss.backward()
    optimizer.step()
    optimizer.zero_grad()


def resume_worker(rank: int, model_dir: str, port: int, results) -> None:
    import torch.distributed as dist

    from builder.train.sharding import (load_optimizer_state, load_trainable_state, weight_values_held,
                                        whole_optimizer_state, whole_trainable_state)

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        model, _, optimizer = sharded_model(model_dir)
        unsharded_loss = batch_loss(sharded_model(model_dir, shard=False)[0], rank)
        model.eval()
        evaluated = batch_loss(model, rank)  # an evaluation between steps, as training does
        model.train()
        same_loss = abs(batch_loss(model, rank) - unsharded_loss) < 1e-3 and abs(evaluated - unsharded_loss) < 1e-3
        train_step(model, optimizer, rank)
        weights, moments = copy.deepcopy((whole_trainable_state(model), whole_optimizer_state(optimizer)))
        train_step(model, optimizer, rank)
        uninterrupted = whole_trainable_state(model)

        resumed, _, fresh_optimizer = sharded_model(model_dir)
        load_trainable_state(resumed, weights)
        load_optimizer_state(fresh_optimizer, moments)
        train_step(resumed, fresh_optimizer, rank)
        again = whole_trainable_state(resumed)
        results[rank] = {"held": weight_values_held(resumed), "same_loss": same_loss, "same": all(torch.equal(uninterrupted[n], again[n]) for n in again),
                         "moved": any(not torch.equal(weights[n], again[n]) for n in again),
                         "whole": all(moments["state"][0]["exp_avg"].shape == weights[n].shape
                                      for n in list(weights)[:1])}
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_a_sharded_run_resumed_from_its_whole_state_takes_the_same_step(tiny_model_dir):
    import torch.multiprocessing as mp

    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(resume_worker, args=(str(tiny_model_dir), free_port(), results), nprocs=2)
        results = dict(results)
    assert set(results) == {0, 1}
    for held, total in (r["held"] for r in results.values()):
        assert held < 0.6 * total, "each rank holds a shard of the 4-bit model"
    assert all(r["same_loss"] for r in results.values()), "sharded, and after an evaluation, the loss is the unsharded one"
    assert all(r["whole"] for r in results.values()), "the optimizer's moments are saved whole"
    assert all(r["moved"] for r in results.values())
    assert all(r["same"] for r in results.values()), "the resumed step equals the uninterrupted one on every rank"
