"""The training benchmark (bench/train.py) with its TRL baseline, on the tiny model.

    .venv/bin/python -m pytest tests/test_bench_train.py -q
"""

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from bench import trl_recipe
from bench.train import dense_bf16_tflops, model_flops_per_token, recipe_result, summarize
from builder.storage import write_jsonl

ROOT = Path(__file__).resolve().parent.parent
PAIRS = [{"question": f"How many spokes does wheel {i} have?", "answer": f"Wheel {i} has {20 + i} spokes, "
          "checked at every routine check."} for i in range(24)]


def test_missing_or_old_trl_is_named_and_skipped(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(trl_recipe.metadata, "version", missing)
    assert trl_recipe.trl_skip_reason() == (
        "TRL is not installed (pip install 'domain-assistant-builder[bench]'): skipping the TRL baseline")
    monkeypatch.setattr(trl_recipe.metadata, "version", lambda name: "0.9.6")
    reason = trl_recipe.trl_skip_reason()
    assert "TRL 0.9.6 is installed" in reason and f"trl>={trl_recipe.MIN_TRL}" in reason and "skipping" in reason
    monkeypatch.setattr(trl_recipe.metadata, "version", lambda name: trl_recipe.MIN_TRL)
    assert trl_recipe.trl_skip_reason() is None


def test_summary_has_a_ratio_per_baseline_that_ran():
    speeds = [(100.0, 250.0, 125.0), (80.0, 240.0, 100.0), (90.0, 300.0, 100.0)]  # peft, ours, trl per run
    runs = [{name: {"tokens_per_s": value} for name, value in zip(("peft", "ours", "trl"), run)} for run in speeds]
    runs[0]["trl_checks"] = {"label_tokens_match_ours": True}
    results = {"peft": {"peak_memory_mb": 4000}, "ours": {"peak_memory_mb": 2000}, "trl": {"peak_memory_mb": 2500}}
    both = summarize({"device": "cpu"}, results, runs, None)
    assert both["ratios"] == {
        "peft": {"tokens_per_s": 3.0, "tokens_per_s_runs": [2.5, 3.0, 3.33], "peak_memory": 0.5},
        "trl": {"tokens_per_s": 2.4, "tokens_per_s_runs": [2.0, 2.4, 3.0], "peak_memory": 0.8}}
    assert both["trl_checks"] == {"label_tokens_match_ours": True} and "trl_skipped" not in both
    del results["trl"]
    alone = summarize({"device": "cpu"}, results, [{k: v for k, v in run.items() if k != "trl"} for run in runs],
                      "TRL is not installed")
    assert set(alone["ratios"]) == {"peft"} and alone["ratios"]["peft"]["peak_memory"] == 0.5
    assert alone["trl_skipped"] == "TRL is not installed" and "trl_checks" not in alone


def test_mfu_counts_four_flops_per_parameter_and_token_against_the_gpu_s_peak(tiny_model_dir):
    """The GPU-only numbers, checked where CI runs: a run on an H200 once lost its measurements to
    a mistake in this path, which only a GPU reached."""
    from transformers import AutoModelForCausalLM

    params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(tiny_model_dir).parameters())
    flops = model_flops_per_token(tiny_model_dir)  # a Path, as --shape makes it
    assert flops == 4 * params
    assert dense_bf16_tflops("NVIDIA H200") == dense_bf16_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert dense_bf16_tflops("NVIDIA H100 PCIe") == 756.0 and dense_bf16_tflops("Some GPU") == 0.0
    runs = [{"ours": {"tokens_per_s": 1000.0, "detail": "d"}}, {"ours": {"tokens_per_s": 3000.0, "detail": "d"}}]
    setting = {"mfu_flops_per_token": 4e9, "mfu_peak_tflops": 989.0}
    result = recipe_result("ours", runs, {"peak_memory_mb": 100}, setting)
    assert result["tokens_per_s"] == 2000.0 and result["mfu"] == round(4e9 * 2000 / 989e12, 4)
    assert "mfu" not in recipe_result("ours", runs, {"peak_memory_mb": 100}, {})  # a CPU, or an unknown GPU


def run_bench(tmp_path: Path, model_dir: Path, pythonpath: str = "", repeats: int = 1):
    """bench/train.py on the tiny model and PAIRS: the finished process and the saved summary."""
    pairs, out = tmp_path / "pairs.jsonl", tmp_path / "train.json"
    write_jsonl(pairs, PAIRS)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(filter(None, [pythonpath, str(ROOT)]))}
    argv = ["--model", str(model_dir), "--tokenizer", str(model_dir), "--pairs", str(pairs), "--steps", "2",
            "--warmup", "1", "--repeats", str(repeats), "--row-tokens", "256", "--max-seq-tokens", "256",
            "--out", str(out)]
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "train.py"), *argv], capture_output=True, text=True,
                          env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done, json.loads(out.read_text())


@pytest.mark.slow
def test_an_old_trl_is_reported_and_the_other_baseline_still_runs(tmp_path, tiny_model_dir):
    fake = tmp_path / "site"
    (fake / "trl-0.1.0.dist-info").mkdir(parents=True)
    (fake / "trl-0.1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: trl\nVersion: 0.1.0\n")
    done, summary = run_bench(tmp_path, tiny_model_dir, pythonpath=str(fake))
    assert "TRL 0.1.0 is installed but the baseline needs trl>=" in done.stdout
    assert set(summary["results"]) == {"peft", "ours"} and set(summary["ratios"]) == {"peft"}
    assert "TRL 0.1.0" in summary["trl_skipped"]
    assert summary["results"]["ours"]["real_tokens"] > 0 and summary["results"]["ours"]["peak_memory_mb"] > 0


@pytest.mark.slow
@pytest.mark.skipif(trl_recipe.trl_skip_reason() is not None, reason="needs trl (the bench extra)")
def test_trl_learns_the_same_answer_tokens_and_keeps_packed_examples_apart(tmp_path, tiny_model_dir):
    done, summary = run_bench(tmp_path, tiny_model_dir, repeats=2)
    assert set(summary["ratios"]) == {"peft", "trl"} and "ours/trl:" in done.stdout
    trl = summary["results"]["trl"]
    assert len(trl["tokens_per_s_runs"]) == 2 and len(summary["ratios"]["trl"]["tokens_per_s_runs"]) == 2
    assert trl["real_tokens"] > 0 and trl["peak_memory_mb"] > 0 and "completion-only loss" in trl["detail"]
    checks = summary["trl_checks"]
    assert checks["label_tokens_match_ours"] and checks["label_tokens"] > 0
    assert checks["max_logit_diff_packed_vs_alone"] < 1e-3 < checks["max_logit_diff_without_boundaries"]
