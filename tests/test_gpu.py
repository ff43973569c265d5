"""The CUDA recipe (4-bit NF4 QLoRA, bf16 compute, flex attention on packed rows): runs only
where a CUDA GPU is present; CI and the development machines skip it."""

import pytest
import torch

from builder.storage import read_jsonl
from builder.train import run_training

from .support import build_template, copy_project

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_qlora_on_cuda_trains_in_4bit_and_learns(tmp_path, tiny_model_dir):
    template = build_template(tmp_path / "template", tiny_model_dir)
    project = copy_project(template, tmp_path / "p", max_steps=12, micro_batch=8, max_seq_tokens=256,
                           quantize="auto")
    status = run_training(project)
    run_dir = next(project.runs_dir.iterdir())
    losses = [row["loss"] for row in read_jsonl(run_dir / "metrics.jsonl") if "loss" in row]
    assert status["state"] == "completed"
    assert sum(losses[-3:]) < sum(losses[:3]) * 0.95, losses
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert max(row.get("memory_mb", 0) for row in read_jsonl(run_dir / "metrics.jsonl")) > 0
