"""The training loop in-process with the tiny model: resume, checkpoints, eval, faults.

    .venv/bin/python -m pytest tests/test_train_loop.py -q
"""

import errno
import json
import shutil
import threading
import time
from dataclasses import replace

import pytest
import torch

from builder.errors import TrainingBusy, TrainingError
from builder.storage import read_json, read_jsonl
from builder.runs import Run
from builder.train import run_training
from builder.train import checkpoint as ckpt
from builder.train.lock import LOCK_FILE, acquire_lock

from .support import adapter_tensors, copy_project, depot_project, losses


def stop_when_step(run_dir_holder: list, step: int) -> threading.Thread:
    """Write the STOP file as soon as metrics.jsonl shows ``step`` (from a background thread)."""
    def watch():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = run_dir_holder[0].glob("*/metrics.jsonl")
            for metrics in runs:
                if any(row.get("step", 0) >= step for row in read_jsonl(metrics)):
                    Run(metrics.parent).request_stop()
                    return
            time.sleep(0.002)
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_stop_then_resume_matches_an_uninterrupted_run(train_template, tmp_path):
    straight = copy_project(train_template, tmp_path / "a", max_steps=8, checkpoint_every_steps=2, eval_every_steps=4)
    done = run_training(straight)
    assert done["state"] == "completed" and done["step"] == 8

    project = copy_project(train_template, tmp_path / "b", max_steps=8, checkpoint_every_steps=2, eval_every_steps=4)
    stop_when_step([project.runs_dir], 3)
    stopped = run_training(project)
    assert stopped["state"] == "stopped" and 3 <= stopped["step"] < 8, stopped
    run_dir = next(project.runs_dir.iterdir())
    assert (run_dir / "checkpoints" / ckpt.checkpoint_name(stopped["step"]) / ckpt.CHECKPOINT_MARKER).is_file()

    resumed = run_training(project, resume=True)
    assert resumed["state"] == "completed" and resumed["step"] == 8
    assert [row["step"] for row in read_jsonl(run_dir / "metrics.jsonl") if "loss" in row] == list(range(1, 9))
    first_run = next(straight.runs_dir.iterdir())
    expected, got = adapter_tensors(first_run / "adapter"), adapter_tensors(run_dir / "adapter")
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=1e-4, atol=1e-5)
    assert not (project.root / LOCK_FILE).exists()


def test_corrupted_checkpoint_is_skipped_for_the_previous_one(train_template, tmp_path, capsys):
    project = copy_project(train_template, tmp_path / "p", max_steps=8, checkpoint_every_steps=2, eval_every_steps=100)
    stop_when_step([project.runs_dir], 4)
    stopped = run_training(project)
    run_dir = next(project.runs_dir.iterdir())
    good = run_dir / "checkpoints" / ckpt.checkpoint_name(stopped["step"])
    broken = run_dir / "checkpoints" / ckpt.checkpoint_name(stopped["step"] + 1)
    ckpt_copy = shutil.copytree(good, broken)
    (ckpt_copy / ckpt.WEIGHTS_FILE).write_bytes(b"\x00" * 40)  # torn file, marker present
    (run_dir / "checkpoints" / ".tmp-step-000099").mkdir()       # leftover of a killed save

    resumed = run_training(project, resume=True)
    out = capsys.readouterr().out
    assert f"skipping damaged checkpoint {broken.name}" in out
    assert f"resumed from {good.name}" in out
    assert resumed["state"] == "completed" and resumed["step"] == 8
    assert not (run_dir / "checkpoints" / ".tmp-step-000099").exists()


def test_stop_during_the_first_step_saves_nothing_and_ends_quickly(train_template, tmp_path):
    project = copy_project(train_template, tmp_path / "p", max_steps=50)
    run_dir = project.new_run_dir()
    Run(run_dir).request_stop()
    started = time.monotonic()
    status = run_training(project, run_dir)
    assert status["state"] == "stopped" and status["step"] == 0
    assert "nothing to save" in status["message"]
    assert not (run_dir / "adapter").exists() and not (run_dir / "COMPLETE").exists()
    assert time.monotonic() - started < 10
    assert read_json(run_dir / "status.json")["state"] == "stopped"


def test_zero_accepted_pairs_refuses_to_start(train_template, tmp_path):
    project = copy_project(train_template, tmp_path / "p")
    project.save_pairs([replace(pair, status="rejected") for pair in project.pairs()])
    with pytest.raises(TrainingError, match="no accepted pairs"):
        run_training(project)
    run_dir = next(project.runs_dir.iterdir())
    assert read_json(run_dir / "status.json")["state"] == "failed"
    assert not (project.root / LOCK_FILE).exists()


def test_over_long_pairs_are_truncated_or_dropped_with_counts(train_template, tmp_path, capsys):
    project = copy_project(train_template, tmp_path / "p", max_seq_tokens=64, max_steps=2)
    pairs = project.pairs()
    words = " ".join(pairs[0].answer.split() * 40)
    pairs[0].answer = words             # answer far past 64 tokens: truncated
    pairs[1].question = words           # question alone past 64 tokens: no answer token left, dropped
    project.save_pairs(pairs)
    status = run_training(project)
    assert status["state"] == "completed"
    data = read_json(next(project.runs_dir.iterdir()) / "data.json")
    assert data["truncated"] >= 1 and data["dropped"] >= 1
    assert "were truncated" in capsys.readouterr().out


def test_out_of_memory_fails_with_a_hint_and_keeps_the_checkpoint(train_template, tmp_path, monkeypatch):
    from builder.train import loop

    project = copy_project(train_template, tmp_path / "p", max_steps=6, checkpoint_every_steps=2, eval_every_steps=100)
    real = loop.rows_for_step

    def rows_until_oom(rows, step, *args):  # the third step runs out of memory, as a too-long row would on a GPU
        if step == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(rows, step, *args)

    monkeypatch.setattr(loop, "rows_for_step", rows_until_oom)
    with pytest.raises(TrainingError, match="out of memory"):
        run_training(project)
    run_dir = next(project.runs_dir.iterdir())
    status = read_json(run_dir / "status.json")
    assert status["state"] == "failed" and status["resumable"] is True
    assert "step-000002) is intact" in status["message"]
    assert ckpt.load_latest_checkpoint(run_dir).step == 2


def test_disk_full_during_checkpoint_keeps_the_previous_one(train_template, tmp_path, monkeypatch):
    project = copy_project(train_template, tmp_path / "p", max_steps=6, checkpoint_every_steps=2, eval_every_steps=100)
    real_save, saves = torch.save, []

    def save_until_full(obj, path, *args, **kwargs):
        saves.append(path)
        if len(saves) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_until_full)
    with pytest.raises(TrainingError, match="disk is full"):
        run_training(project)
    run_dir = next(project.runs_dir.iterdir())
    assert read_json(run_dir / "status.json")["state"] == "failed"
    assert [p.name for p in (run_dir / "checkpoints").iterdir()] == ["step-000002"]
    monkeypatch.setattr(torch, "save", real_save)
    assert ckpt.load_latest_checkpoint(run_dir).step == 2
    assert run_training(project, resume=True)["state"] == "completed"


@pytest.mark.slow
def test_eval_loss_best_checkpoint_and_early_stopping(train_template, tmp_path):
    """Without the recall check (which ranks checkpoints first), the lowest eval loss is kept."""
    project = copy_project(train_template, tmp_path / "p", max_steps=30, learning_rate=0.99, eval_every_steps=1,
                           early_stopping_patience=2, recall_check=False)
    status = run_training(project)
    run_dir = next(project.runs_dir.iterdir())
    evals = [row for row in read_jsonl(run_dir / "metrics.jsonl") if "eval_loss" in row]
    assert status["state"] == "completed" and status["step"] < 30, "a too-high learning rate must stop early"
    assert "early stopping" in status["message"]
    best = min(evals, key=lambda row: row["eval_loss"])
    assert status["adapter_step"] == best["step"] == status["best_step"]
    kept = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert ckpt.checkpoint_name(best["step"]) in kept and len(kept) <= 2
    saved = ckpt.load_checkpoint(run_dir / "checkpoints" / ckpt.checkpoint_name(best["step"])).weights
    final = adapter_tensors(run_dir / "adapter")
    for name, tensor in final.items():
        torch.testing.assert_close(tensor, saved[name])


@pytest.mark.slow
def test_second_training_is_refused_while_one_holds_the_lock(train_template, tmp_path):
    import subprocess
    import sys

    project = copy_project(train_template, tmp_path / "p")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        acquire_lock(project.root, project.root / "runs" / "other", pid=holder.pid)
        with pytest.raises(TrainingBusy, match="already running"):
            run_training(project)
        assert not project.runs_dir.exists() or not any(project.runs_dir.iterdir()), "no empty run left behind"
    finally:
        holder.kill()
        holder.wait()
    assert run_training(project)["state"] == "completed", "a lock whose process is gone is stale"
    assert not (project.root / LOCK_FILE).exists(), "the lock is released at the end"


@pytest.mark.slow
def test_cpu_4bit_training_learns(train_template, tmp_path):
    project = copy_project(train_template, tmp_path / "p", quantize="4bit", max_steps=6, eval_every_steps=100)
    with project.edit_pairs() as pairs:
        pairs[:] = pairs[:4]  # the same few rows each step: the loss falls on what was learned, not on easier rows
    status = run_training(project)
    assert status["state"] == "completed"
    curve = losses(next(project.runs_dir.iterdir()))
    assert len(curve) == 6 and sum(curve[-2:]) < sum(curve[:2]) * 0.9, curve
    data = read_json(next(project.runs_dir.iterdir()) / "data.json")
    assert data["quantized_linear_layers"] == 14, "2 layers x 7 projections loaded in 4-bit"


def test_next_token_loss_equals_the_model_loss_on_packed_rows(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    from builder.train.recipe import next_token_loss

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa")
    assert_trains_like_the_model_loss(model, next_token_loss)
    assert model.lm_head.weight.grad is not None


def assert_trains_like_the_model_loss(model, next_token_loss) -> None:
    """Same loss and same gradient on every parameter as ``model(**batch).loss`` on a packed row."""
    from builder.conversation import Example
    from builder.train.data import collate_packed

    row = [Example([5, 6, 7, 8, 9], [-100, -100, 7, 8, 9]), Example([10, 11, 12, 13], [-100, -100, -100, 13])]
    batch = collate_packed(row)
    expected = model(**batch).loss
    expected.backward()
    expected_grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    got = next_token_loss(model, batch)
    torch.testing.assert_close(got, expected)
    got.backward()
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, expected_grads[name], msg=lambda m, name=name: f"{name}: {m}")


def test_next_token_loss_with_soft_capped_logits_trains_like_the_model_loss():
    """The loss overwrites the logits with their gradient: a soft-capped head (Gemma 2) must not need them."""
    from transformers import Gemma2Config, Gemma2ForCausalLM

    from builder.train.recipe import next_token_loss

    torch.manual_seed(0)
    config = Gemma2Config(vocab_size=32, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=2, num_key_value_heads=1, head_dim=16, final_logit_softcapping=2.0,
                          initializer_range=0.5, attn_implementation="eager")
    assert_trains_like_the_model_loss(Gemma2ForCausalLM(config), next_token_loss)


def test_a_row_padded_to_one_length_trains_like_the_packed_row(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    from builder.conversation import Example
    from builder.train.data import collate_packed, real_tokens
    from builder.train.recipe import next_token_loss, padded_row_tokens

    assert padded_row_tokens("cpu", 1000) == 0 and padded_row_tokens("cuda:0", 1000) == 1024
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa")
    row = [Example([5, 6, 7, 8, 9], [-100, -100, 7, 8, 9]), Example([10, 11, 12, 13], [-100, -100, -100, 13])]
    padded = collate_packed(row, pad_to=16)
    assert padded["input_ids"].shape == (1, 16) and real_tokens(row) == 9
    assert padded["position_ids"][0].tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6]
    assert (padded["labels"][0, 9:] == -100).all()
    expected = next_token_loss(model, collate_packed(row))
    logits = model(**{k: v for k, v in padded.items() if k != "labels"}).logits
    unpadded_logits = model(**{k: v for k, v in collate_packed(row).items() if k != "labels"}).logits
    torch.testing.assert_close(logits[:, :9], unpadded_logits)  # the padding segment changes nothing
    torch.testing.assert_close(next_token_loss(model, padded), expected)


@pytest.mark.slow
def test_cli_preset_is_resolved_and_recorded(train_template, tmp_path, capsys):
    from builder.config import ProjectConfig
    from builder.train.presets import PRESETS
    from dab.cli import main

    project = copy_project(train_template, tmp_path / "p", max_steps=2)
    assert main(["train", "--project", str(project.root), "--preset", "quick", "--max-steps", "2"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["state"] == "completed"
    run_dir = next(project.runs_dir.iterdir())
    data = read_json(run_dir / "data.json")
    assert data["preset"] == "quick" and data["memory_estimate_bytes"] > 0 and data["hardware"]["device"] == "cpu"
    resolved = ProjectConfig.load(run_dir / "config.yaml").train
    assert (resolved.preset, resolved.lora_rank, resolved.micro_batch) == ("custom", PRESETS["quick"]["lora_rank"], 1)
    assert resolved.max_seq_tokens >= 128


def test_resume_without_an_unfinished_run_is_a_clear_error(train_template, tmp_path, capsys):
    from dab.cli import main

    project = copy_project(train_template, tmp_path / "p")
    assert main(["train", "--project", str(project.root), "--resume"]) == 2
    assert "no interrupted or stopped run to resume" in capsys.readouterr().err


def test_domain_preset_system_prompt_is_trained_and_recorded_for_chat(train_template, tmp_path):
    from builder.config import ProjectConfig
    from builder.runs import chat_settings
    from builder.templates import load_domain

    project = copy_project(train_template, tmp_path / "p", max_steps=1)
    cfg = project.load_config()
    cfg.pairs.domain = "legal"
    project.save_config(cfg)
    status = run_training(project)
    run_dir = next(project.runs_dir.iterdir())
    legal_prompt = load_domain("legal").system_prompt
    assert status["state"] == "completed"
    assert ProjectConfig.load(run_dir / "config.yaml").chat.system_prompt == legal_prompt
    assert chat_settings(project.load_config(), Run(run_dir)).system_prompt == legal_prompt


def test_the_plan_the_wizard_shows_is_the_plan_the_run_trains_with(train_template, tmp_path):
    from builder.config import ProjectConfig
    from builder.train.plan import plan_run

    project = copy_project(train_template, tmp_path / "p", max_steps=1, preset="quick")
    plan = plan_run(project, project.load_config())
    assert (plan.preset, plan.run_cfg.train.preset, plan.run_cfg.train.lora_rank) == ("quick", "custom", 16)
    assert run_training(project)["state"] == "completed"
    run_dir = next(project.runs_dir.iterdir())
    assert ProjectConfig.load(run_dir / "config.yaml").train == plan.run_cfg.train
    data = read_json(run_dir / "data.json")
    assert (data["preset"], data["memory_estimate_bytes"], data["train_pairs"]) == ("quick", plan.memory_bytes,
                                                                                     len(plan.splits.train))


def test_the_plan_counts_the_steps_and_times_the_run_by_the_speed_measured_here(train_template, tmp_path):
    from builder.storage import write_jsonl
    from builder.train.plan import MIN_TIMED_STEPS, expected_train_s, plan_run

    project = copy_project(train_template, tmp_path / "p", max_steps=0, epochs=1.0, preset="custom", max_seq_tokens=1024)
    plan = plan_run(project, project.load_config())
    seconds, basis = expected_train_s(project, plan)  # no run yet: a rough CPU rate
    assert basis.startswith("rough") and seconds > 0
    assert run_training(project)["state"] == "completed"
    run_dir = next(project.runs_dir.iterdir())
    total = read_json(run_dir / "status.json")["total_steps"]
    assert abs(plan.steps - total) <= max(2, 0.05 * total)  # first-fit packing fills rows a little less
    assert plan.facts == read_json(run_dir / "data.json")["facts"]
    write_jsonl(run_dir / "metrics.jsonl", [{"step": MIN_TIMED_STEPS, "tokens_per_s": 50.0}])
    assert expected_train_s(project, plan) == (plan.tokens / 50.0, f"at the 50 tokens/s run {run_dir.name} measured here")


def test_the_recall_check_asks_trained_facts_and_unseen_passages_with_facts_to_check():
    from builder.records import Pair
    from builder.train.loop import MAX_RECALL_QUESTIONS, MAX_UNSEEN_QUESTIONS, check_questions

    def pairs(n: int, role: str, with_facts: bool) -> list[Pair]:
        answer = "At 10:00. The office opens at 10:00." if with_facts else "Late. The office opens late."
        return [Pair(id=f"{role}{i}", question=f"When does office {role}{i} open?", answer=answer,
                     chunk_id="c1") for i in range(n)]

    recall = pairs(5, "vague", False) + pairs(30, "recall", True)
    asked = check_questions(recall, pairs(12, "unseen", True))
    assert [p.id[:6] for p in asked] == ["recall"] * MAX_RECALL_QUESTIONS + ["unseen"] * MAX_UNSEEN_QUESTIONS
    assert len({p.id for p in asked}) == len(asked)  # spread, none twice
    assert check_questions(pairs(3, "vague", False), []) == []


def test_the_recall_check_asks_as_chat_asks(tmp_path):
    """With "Answer from the documents" on, a recall question is asked over the passages search
    finds (the checkpoint kept is the one that answers best in chat); off, closed-book."""
    from builder.config import ChatConfig
    from builder.train.loop import recall_messages

    project = depot_project(tmp_path)
    question = "What time does the depot open?"
    grounded, = recall_messages(project, [question], ChatConfig(system_prompt="Be brief."), ["<|im_end|>"])
    assert grounded[0] == {"role": "system", "content": "Be brief."}
    assert "The depot opens at 7 am on weekdays." in grounded[-1]["content"] and question in grounded[-1]["content"]
    closed, = recall_messages(project, [question], ChatConfig(system_prompt="Be brief.", grounded=False), [])
    assert closed == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": question}]
