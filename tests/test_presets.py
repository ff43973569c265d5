"""Presets and the memory plan for described hardware and model shapes (no model is loaded).

    .venv/bin/python -m pytest tests/test_presets.py -q
"""

import math

from builder.config import TrainConfig
from builder.train.presets import (CUDA_STEP_TOKENS, GIB, MAX_EPOCHS, MIN_OPTIMIZER_STEPS, PRESETS, Hardware, ModelShape,
                                   cuda_rows, estimate_memory, lora_alpha, plan_training)
from builder.conversation import Example
from builder.train.data import pack_examples

QWEN_05B = ModelShape(params=494_000_000, layers=24, hidden=896, intermediate=4864, vocab=151_936,
                      max_positions=32768, tied_embeddings=True)
LLAMA_8B = ModelShape(params=8_030_000_000, layers=32, hidden=4096, intermediate=14336, vocab=128_256,
                      max_positions=131072, tied_embeddings=False)
SMOLLM_135M = ModelShape(params=134_500_000, layers=30, hidden=576, intermediate=1536, vocab=49152,
                         max_positions=8192, tied_embeddings=True)
H100 = Hardware("cuda", 80 * GIB, "H100")
SMALL_GPU = Hardware("cuda", 8 * GIB, "8 GB GPU")
CPU = Hardware("cpu", 16 * GIB, "CPU (2 cores)")
LENGTHS = [120 + (i * 37) % 300 for i in range(400)]  # 120..419 tokens


def plan(preset: str, hardware=H100, shape=QWEN_05B, lengths=LENGTHS, **fields):
    return plan_training(TrainConfig(preset=preset, **fields), hardware, shape, lengths)


def test_presets_scale_the_learning_budget():
    quick, balanced, thorough = (plan(name, lengths=LENGTHS * 4).train for name in ("quick", "balanced", "thorough"))
    assert quick.epochs < balanced.epochs < thorough.epochs
    assert quick.learning_rate > balanced.learning_rate > thorough.learning_rate
    assert quick.lora_rank <= balanced.lora_rank < thorough.lora_rank
    assert thorough.early_stopping_patience > 0 and balanced.early_stopping_patience > 0
    assert quick.early_stopping_patience == 0, "two passes: no evaluation to spare"


def test_a_small_corpus_gets_enough_optimizer_steps_and_a_warning():
    small = plan_training(TrainConfig(preset="quick"), CPU, SMOLLM_135M, [70] * 40)
    rows = math.ceil(70 * 40 / small.train.packed_row_tokens)
    steps = math.ceil(rows / small.train.grad_accum) * small.train.epochs
    assert PRESETS["quick"]["epochs"] < small.train.epochs <= MAX_EPOCHS
    assert steps >= MIN_OPTIMIZER_STEPS or small.train.epochs == MAX_EPOCHS
    assert any("only 40 training" in w for w in small.warnings)
    large = plan_training(TrainConfig(preset="quick"), CPU, SMOLLM_135M, [70] * 4000).train
    assert large.epochs == PRESETS["quick"]["epochs"]


def test_lora_alpha_is_twice_the_rank_in_every_preset():
    assert lora_alpha(7) == 14
    for name in PRESETS:
        resolved = plan(name).train
        assert resolved.lora_alpha == 2 * resolved.lora_rank == lora_alpha(PRESETS[name]["lora_rank"])


def test_sequence_length_follows_the_data_and_cpu_rows_stay_short():
    gpu, cpu = plan("balanced").train, plan("balanced", hardware=CPU, shape=SMOLLM_135M).train
    assert cpu.max_seq_tokens == 512, "the longest pairs (419 tokens) fit without truncation"
    assert gpu.max_seq_tokens == 2048 and gpu.micro_batch == 4, "the GPU gets 4 packed rows of 2,048 tokens"
    assert gpu.micro_batch > 1 and cpu.micro_batch == 1
    assert gpu.micro_batch * gpu.max_seq_tokens * gpu.grad_accum >= 8192
    assert cpu.grad_accum == 1, "on CPU a step is one row: more updates from the same tokens learn facts faster"


def test_the_longest_examples_fit_whole_while_cpu_rows_stay_short():
    """A few open-book examples (passages + question + answer) are far longer than the rest: they
    are never cut (their answer comes last), and the many short ones still pack into short rows."""
    lengths = LENGTHS + [700] * 5
    cpu = plan_training(TrainConfig(preset="balanced"), CPU, SMOLLM_135M, lengths)
    assert cpu.train.max_seq_tokens == 1024 and cpu.train.packed_row_tokens == 512
    assert not any("truncated" in w for w in cpu.warnings)
    many_long = plan_training(TrainConfig(preset="balanced"), CPU, SMOLLM_135M, LENGTHS + [700] * len(LENGTHS))
    assert many_long.train.packed_row_tokens == 512, "half the examples long: CPU rows stay 512 tokens"
    too_long = plan_training(TrainConfig(preset="balanced"), CPU, SMOLLM_135M, LENGTHS + [3000])
    assert any(w.startswith("1 pair(s) are longer than 1024 tokens") for w in too_long.warnings)


def test_an_example_longer_than_a_row_gets_a_row_of_its_own():
    examples = [Example([1] * n, [1] * n) for n in (300, 200, 700, 100)]
    rows = pack_examples(examples, row_tokens=512, seed=0)
    sizes = sorted(sum(len(e.input_ids) for e in row) for row in rows)
    assert sum(sizes) == 1300 and sizes[-1] == 700 and all(size <= 512 for size in sizes[:-1])
    assert [len(row) for row in rows if sum(len(e.input_ids) for e in row) == 700] == [1]


def test_big_model_on_small_gpu_gets_checkpointing_and_a_warning():
    roomy = plan("balanced")
    tight = plan("thorough", hardware=SMALL_GPU, shape=LLAMA_8B, micro_batch=8, max_seq_tokens=4096)
    assert not roomy.gradient_checkpointing and roomy.memory_bytes < 0.85 * H100.memory_bytes
    assert tight.train.micro_batch == 1
    tight_custom = plan("custom", hardware=SMALL_GPU, shape=LLAMA_8B, micro_batch=8, max_seq_tokens=4096)
    assert tight_custom.gradient_checkpointing
    assert any("exceeds" in w for w in tight_custom.warnings)


def test_memory_estimate_orders_the_recipes():
    rows = 4 * 2048
    four_bit = estimate_memory(QWEN_05B, "cuda", True, 16, rows, False, False)
    bf16 = estimate_memory(QWEN_05B, "cuda", False, 16, rows, False, False)
    checkpointed = estimate_memory(QWEN_05B, "cuda", True, 16, rows, True, False)
    fused = estimate_memory(QWEN_05B, "cuda", True, 16, rows, True, True)
    assert bf16 > four_bit > checkpointed > fused
    assert fused < 4 * GIB < four_bit


def test_small_dataset_and_truncation_warnings():
    few = plan("custom", lengths=[100] * 10, max_seq_tokens=1024)
    assert any("only 10 training pairs" in w for w in few.warnings)
    long = plan("custom", lengths=[100] * 60 + [3000] * 3, max_seq_tokens=1024)
    assert any(w.startswith("3 pair(s) are longer than 1024 tokens") for w in long.warnings)
    assert plan("custom", lengths=[100] * 60, max_seq_tokens=1024).warnings == []


QWEN_15B = ModelShape(params=1_544_000_000, layers=28, hidden=1536, intermediate=8960, vocab=151_936,
                      max_positions=32768, tied_embeddings=True)
BIG_DATA = 2_000_000  # tokens: enough that the data never limits the step


def test_cuda_rows_fill_the_free_memory_without_checkpointing_when_they_can():
    for shape in (QWEN_05B, QWEN_15B):
        row, rows, checkpointing = cuda_rows(0.85 * 80 * GIB, shape, 16, 512, 4096, BIG_DATA)
        assert (row, rows, checkpointing) == (2048, 4, False) and row * rows == CUDA_STEP_TOKENS
    row, rows, checkpointing = cuda_rows(0.85 * 16 * GIB, QWEN_15B, 16, 512, 4096, BIG_DATA)
    assert not checkpointing and rows < 4 and estimate_memory(QWEN_15B, "cuda", True, 16, row * rows, False, False) \
        <= 0.85 * 16 * GIB < estimate_memory(QWEN_15B, "cuda", True, 16, row * rows * 2, False, False)


def test_cuda_rows_use_the_free_memory_not_the_total():
    roomy = plan("balanced", hardware=Hardware("cuda", 24 * GIB, "GPU", free_bytes=24 * GIB), shape=LLAMA_8B)
    busy = plan("balanced", hardware=Hardware("cuda", 24 * GIB, "GPU", free_bytes=8 * GIB), shape=LLAMA_8B)
    assert busy.train.micro_batch * busy.train.max_seq_tokens < roomy.train.micro_batch * roomy.train.max_seq_tokens
    assert busy.memory_bytes <= 0.85 * 8 * GIB or busy.gradient_checkpointing


def test_cuda_rows_turn_checkpointing_on_only_when_one_row_does_not_fit():
    row, rows, checkpointing = cuda_rows(0.85 * 8 * GIB, LLAMA_8B, 16, 512, 4096, BIG_DATA)
    assert checkpointing and rows >= 1
    assert estimate_memory(LLAMA_8B, "cuda", True, 16, 512, False, False) > 0.85 * 8 * GIB


def test_cuda_rows_hold_the_longest_pairs_and_shrink_for_small_data():
    assert cuda_rows(0.85 * 80 * GIB, QWEN_05B, 16, 4096, 4096, BIG_DATA)[0] == 4096  # long pairs: long rows
    row, rows, _ = cuda_rows(0.85 * 80 * GIB, QWEN_05B, 16, 128, 4096, 159 * 56)  # the sample corpus: ~9k tokens
    assert row * rows <= max(128, 159 * 56 // 10) and row >= 128
    assert row & (row - 1) == 0, "row lengths are powers of two: a few compiled shapes"
