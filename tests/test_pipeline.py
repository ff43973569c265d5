"""End to end on the sample corpus: ingest -> pairs -> train -> chat, with the library API.

The fast test uses a tiny random Llama (seconds); the slow one the bundled SmolLM2-135M.
"""

import pytest

from builder.chat import answer
from builder.config import ChatConfig
from builder.documents import ingest_and_chunk
from builder.pairs import generate_pairs
from builder.project import Project
from builder.runs import Run, load_engine, newest_trained_run
from builder.templates import sample_documents
from builder.train import run_training

from .support import losses


def make_project(root, base_model: str, **train) -> Project:
    project = Project.create(root)
    cfg = project.load_config()
    cfg.train.base_model = base_model
    for key, value in train.items():
        setattr(cfg.train, key, value)
    project.save_config(cfg)
    return project


def run_pipeline(project: Project) -> tuple:
    reports, chunks = ingest_and_chunk(project, sample_documents())
    summary = generate_pairs(project)
    run_dir = project.new_run_dir()
    status = run_training(project, run_dir)
    return reports, chunks, summary, run_dir, status


def test_pipeline_with_tiny_model(project_dir, tiny_model_dir):
    project = make_project(project_dir, str(tiny_model_dir), max_steps=12, learning_rate=2e-2,
                           micro_batch=8, max_seq_tokens=256, lora_rank=8)
    reports, chunks, summary, run_dir, status = run_pipeline(project)

    assert {r["name"].rsplit(".", 1)[1] for r in reports} == {"md", "html", "txt", "docx", "pdf"}
    assert all(r["status"] == "ok" for r in reports), reports
    assert len(chunks) > 30 and all(c.tokens <= 384 for c in chunks)
    assert summary["pairs"] > 50

    assert status["state"] == "completed" and status["step"] == 12
    curve = losses(run_dir)
    assert len(curve) == 12
    assert sum(curve[-3:]) / 3 < sum(curve[:3]) / 3 * 0.9, curve
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert (run_dir / "COMPLETE").exists() and newest_trained_run(project) == Run(run_dir)

    engine = load_engine(newest_trained_run(project), project.load_config())
    end = engine.tokenizer.eos_token_id

    def hold_back_the_end(input_ids, scores):  # a random model's likeliest first token may be the end
        scores[:, end] = -float("inf")
        return scores

    generation = engine.start([{"role": "user", "content": "What does a Day Pass cost?"}],
                              ChatConfig(max_new_tokens=16), processors=[hold_back_the_end])
    pieces = list(generation)
    assert pieces and "".join(pieces).strip(), "the tuned model streams a non-empty answer"


@pytest.mark.slow
def test_pipeline_with_bundled_model(project_dir):
    project = make_project(project_dir, "bundled", max_steps=3, micro_batch=1, max_seq_tokens=256)
    reports, chunks, summary, run_dir, status = run_pipeline(project)
    assert all(r["status"] == "ok" for r in reports)
    assert status["state"] == "completed" and len(losses(run_dir)) == 3
    assert all(0 < loss < 10 for loss in losses(run_dir)), "a pretrained model starts with a sane loss"
    engine = load_engine(newest_trained_run(project), project.load_config())
    reply = answer(engine, "How much does a Day Pass cost?", project.load_config().chat)
    assert len(reply.split()) >= 3
