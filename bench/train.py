"""Training throughput and peak memory: our recipe vs the PEFT-documented QLoRA recipe and TRL.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train.py --repeats 3      # CPU, bundled SmolLM2-135M
    python bench/train.py --shape qwen2.5-0.5b --tokenizer DIR --pairs pairs.jsonl   # CUDA

Every recipe trains the same model on the same pairs (generated from the sample corpus with the
rules generator, or read from ``--pairs``) with answer-only labels, LoRA r=16/alpha=32 on all
linear layers, AdamW at a constant 1e-4 without weight decay, gradients clipped at 1.0. Speed: one
process loads them all, warms each up with ``--warmup`` steps (default one; on CUDA use two, so
that compiled kernels such as flex attention have seen both a full and a partial row before the
clock runs), then alternates their ``--steps`` timed steps (a machine busy with other work slows
them alike); ``--repeats`` such processes give the spread. Peak memory: each recipe again in its
own process, same steps:

- ``peft``: the recipe in the PEFT docs: 4-bit NF4 + ``prepare_model_for_kbit_training`` +
  non-reentrant gradient checkpointing + padded batches of ``--batch`` pairs in dataset order.
- ``trl``: TRL's ``SFTTrainer`` as its docs configure packed SFT (``bench/trl_recipe.py``):
  packing (best-fit decreasing) + padding-free rows of ``--row-tokens``, completion-only loss,
  TRL's defaults otherwise (gradient checkpointing on, its chunked fused LM head). Its trainer owns
  the loop, so the other recipes take their steps from its step callback. Before timing, the run
  checks that TRL's loss covers exactly our answer tokens and that its packed examples do not
  attend to each other (``trl_checks`` in the result). Skipped, with the reason, when TRL is not
  installed or older than ``trl_recipe.MIN_TRL`` (``pip install 'domain-assistant-builder[bench]'``).
- ``ours``: ``builder.train.recipe`` as the product trains: padding-free packed rows (attention per pair) with
  restarting position ids, logits only at answer tokens, no upcast, no checkpointing; fp32 LoRA
  on CPU, 4-bit + flex attention (+ Liger when installed) on CUDA.

Reported: real (non-padding) tokens per second (median over repeats, and each run's value) and
peak memory (CUDA: max allocated; CPU: peak resident set of the process), and ours' ratios to
each baseline (tokens/s: median of the per-run ratios). Results go to
bench/results/train-<device>.json (or ``--out``). ``--shape qwen2.5-0.5b`` builds that
architecture with random weights (speed and memory do not depend on the values), for GPU
machines without model downloads.

For a machine without the bundled model (``bench/gpu_prep.sh`` / ``bench/gpu.sh``), two helpers
write inputs and exit: ``--save-pairs FILE`` (the generated pairs, chunked with ``--tokenizer``)
and ``--save-model DIR`` (the ``--shape`` model with random weights plus ``--tokenizer`` saved
beside it, a loadable base model folder).
"""

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.trl_recipe import SYSTEM_PROMPT, build_trl_trainer, check_trl_batches, trl_skip_reason  # noqa: E402

QWEN_05B = {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
            "num_key_value_heads": 2, "vocab_size": 151936, "tie_word_embeddings": True,
            "max_position_embeddings": 32768}
QWEN_15B = {**QWEN_05B, "hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28,
            "num_attention_heads": 12}
SMOLLM2_135M = {"hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9,
                "num_key_value_heads": 3, "vocab_size": 49152, "tie_word_embeddings": True,
                "max_position_embeddings": 8192}  # the bundled model's shape (times do not depend on rope theta)
SHAPES = {"qwen2.5-0.5b": ("qwen2", QWEN_05B), "qwen2.5-1.5b": ("qwen2", QWEN_15B),
          "smollm2-135m": ("llama", SMOLLM2_135M)}
RECIPES = ("peft", "ours", "ours-gc", "trl")
BASELINES = ("peft", "trl")
MEMORY_STEPS = 3  # timed steps in a peak-memory process: optimizer state exists after the first, rows are full
# Dense bf16 tensor-core peak by GPU name (vendor datasheets, TFLOP/s), the denominator of MFU.
DENSE_BF16_TFLOPS = {"H200": 989.0, "H100 80GB HBM3": 989.0, "H100 PCIe": 756.0, "H100": 989.0, "A100": 312.0,
                     "L40S": 362.0, "L4": 121.0, "A10": 125.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=[*RECIPES, "all"], help="(internal) run recipes and print JSON")
    parser.add_argument("--model", default="bundled", help="model spec (default: the bundled SmolLM2-135M)")
    parser.add_argument("--shape", choices=sorted(SHAPES), help="random weights in this shape instead of --model")
    parser.add_argument("--tokenizer", default="bundled", help="tokenizer for the pairs (default: bundled)")
    parser.add_argument("--pairs", type=Path, help="JSONL of {question, answer} (default: generated)")
    parser.add_argument("--steps", type=int, default=10, help="measured steps per recipe after the warm-up")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per recipe on batches 0..N-1")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs (fresh processes); the median is reported")
    parser.add_argument("--batch", type=int, default=8, help="pairs per padded batch (peft recipe)")
    parser.add_argument("--row-tokens", type=int, default=512,
                        help="tokens per packed row (ours, trl; CPU presets use 512)")
    parser.add_argument("--rows-per-step", type=int, default=1,
                        help="packed rows per step: TRL's batch size; ours packs rows of row-tokens x this, "
                             "one flattened row as the CUDA presets do (e.g. 4 x 2,048)")
    parser.add_argument("--checkpointing", action="store_true",
                        help="also time ours with gradient checkpointing (recipe ours-gc: less memory, more compute)")
    parser.add_argument("--peak-tflops", type=float, help="dense bf16 peak of the GPU for MFU (default: by its name)")
    parser.add_argument("--max-seq-tokens", type=int, default=512)
    parser.add_argument("--out", type=Path, help="result file (default: bench/results/train-<device>.json)")
    parser.add_argument("--save-pairs", type=Path, metavar="FILE",
                        help="only write the generated pairs (for --tokenizer) to FILE as JSONL, then exit")
    parser.add_argument("--save-model", type=Path, metavar="DIR",
                        help="only save the --shape model (random weights) with --tokenizer to DIR, then exit")
    args = parser.parse_args()
    if args.save_pairs or args.save_model:
        save_inputs(args)
    elif args.recipe:
        print("RESULT " + json.dumps(run_recipe(args)), flush=True)
    else:
        compare(args)


def compare(args) -> None:
    """Prepare pairs and model once; ``--repeats`` times, time every recipe interleaved step by
    step in one fresh process (so a busy machine slows them alike); then measure each recipe's
    peak memory in its own process. Without a usable TRL its baseline is skipped, with the reason
    printed and saved. What needs no timing (MFU's constants, the preset's plan) is worked out
    first, so that a mistake there costs no measurement."""
    import torch

    trl_skipped = trl_skip_reason()
    if trl_skipped:
        print(trl_skipped, flush=True)
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="dab-bench-"))
    args.pairs = args.pairs or write_pairs(work / "pairs.jsonl", args.tokenizer)
    args.model = build_shape(work / "model", args.shape) if args.shape else args.model
    device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else ""
    flops = model_flops_per_token(args.model) if device == "cuda" else 0
    peak_tflops = args.peak_tflops or dense_bf16_tflops(gpu)
    setting = {"device": gpu or f"cpu ({os.cpu_count()} cores)",
               "model": args.shape or str(args.model), "steps": args.steps, "warmup": args.warmup,
               "repeats": args.repeats, "row_tokens": args.row_tokens, "rows_per_step": args.rows_per_step,
               **({"mfu_flops_per_token": flops, "mfu_peak_tflops": peak_tflops} if flops and peak_tflops else {}),
               "plan": training_plan(args)}
    print(f"plan for this hardware: {setting['plan']}", flush=True)
    runs = [finish_child(start_child(args, "all")) for _ in range(args.repeats)]
    names = [name for name in RECIPES if name in runs[0]]
    # Peak memory: each recipe in its own process, all at once; a few steps reach the peak.
    memory = dict(zip(names, map(finish_child, [start_child(args, name, MEMORY_STEPS) for name in names])))
    results = {name: recipe_result(name, runs, memory[name], setting) for name in names}
    setting["load_avg_1_5_15m"] = {"start": [round(x, 2) for x in load_start],
                                   "end": [round(x, 2) for x in os.getloadavg()]}
    summary = summarize(setting, results, runs, trl_skipped)
    for key, ours_name in (("ratios", "ours"), ("ratios_checkpointing", "ours-gc")):
        for baseline, ratio in summary.get(key, {}).items():
            print(f"{ours_name}/{baseline}: {ratio['tokens_per_s']}x tokens/s (runs {ratio['tokens_per_s_runs']}), "
                  f"{ratio['peak_memory']}x peak memory")
    out_file = args.out or ROOT / "bench" / "results" / f"train-{device}.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(summary, indent=2) + "\n")


def recipe_result(name: str, runs: list[dict], memory: dict, setting: dict) -> dict:
    """One recipe's numbers (median tokens/s over the runs, each run's, peak memory, MFU on a GPU
    of known peak), printed as one line."""
    speeds = [run[name]["tokens_per_s"] for run in runs]
    result = {**runs[0][name], "tokens_per_s": statistics.median(speeds), "tokens_per_s_runs": speeds,
              "peak_memory_mb": memory["peak_memory_mb"]}
    mfu = ""
    if "mfu_flops_per_token" in setting:
        achieved = setting["mfu_flops_per_token"] * result["tokens_per_s"]
        result["mfu"] = round(achieved / (setting["mfu_peak_tflops"] * 1e12), 4)
        mfu = f"   MFU {result['mfu']:.1%}"
    print(f"{name:7} {result['tokens_per_s']:8.1f} real tokens/s (runs {speeds})   "
          f"peak {result['peak_memory_mb']:7.0f} MB{mfu}   ({result['detail']})", flush=True)
    return result


def summarize(setting: dict, results: dict, runs: list[dict], trl_skipped: str | None) -> dict:
    """The saved result: per-recipe numbers, and ours' ratios against each baseline that ran
    (tokens/s: the median of the per-run ratios, each from one run's alternated steps); with
    ``ours-gc`` (``--checkpointing``), its ratios too, as ``ratios_checkpointing``."""
    extra = {"trl_skipped": trl_skipped} if trl_skipped else {"trl_checks": runs[0].get("trl_checks")}
    if "ours-gc" in results:
        extra["ratios_checkpointing"] = ratios_of("ours-gc", results, runs)
    return {**setting, "results": results, "ratios": ratios_of("ours", results, runs), **extra}


def ratios_of(ours: str, results: dict, runs: list[dict]) -> dict:
    """Recipe ``ours`` against each baseline in ``results``: tokens/s and peak memory."""
    ratios = {}
    for name in [name for name in BASELINES if name in results]:
        per_run = [round(run[ours]["tokens_per_s"] / run[name]["tokens_per_s"], 2) for run in runs]
        ratios[name] = {"tokens_per_s": statistics.median(per_run), "tokens_per_s_runs": per_run,
                        "peak_memory": round(results[ours]["peak_memory_mb"] / results[name]["peak_memory_mb"], 2)}
    return ratios


def model_flops_per_token(model: str | Path) -> int:
    """4 x parameters: forward (2N) and the backward pass through the activations (2N); LoRA
    computes no gradient for the frozen weights, so the usual 6N would overstate the work."""
    from builder.models import resolve_model
    from builder.train.presets import model_shape

    return 4 * model_shape(resolve_model(str(model))).params


def dense_bf16_tflops(gpu_name: str) -> float:
    """The dense bf16 peak for a GPU name (the first table entry it contains), or 0 if unknown."""
    return next((tflops for name, tflops in DENSE_BF16_TFLOPS.items() if name in gpu_name), 0.0)


def training_plan(args) -> dict:
    """What the Balanced preset picks on this hardware for these pairs and this model (row length,
    rows per step, checkpointing) and its memory estimate: to set beside the measured peaks."""
    from builder.config import TrainConfig
    from builder.models import load_tokenizer, resolve_model
    from builder.train.presets import detect_hardware, model_shape, plan_training
    from builder.train.recipe import liger_available

    lengths = [len(example.input_ids) for example in bench_examples(args, load_tokenizer(args.tokenizer))]
    hardware = detect_hardware()
    plan = plan_training(TrainConfig(base_model=str(args.model), preset="balanced"), hardware,
                         model_shape(resolve_model(str(args.model))), lengths,
                         fused_loss=hardware.device == "cuda" and liger_available())
    return {"row_tokens": plan.train.row_tokens, "micro_batch": plan.train.micro_batch,
            "grad_accum": plan.train.grad_accum, "gradient_checkpointing": plan.gradient_checkpointing,
            "estimated_peak_mb": round(plan.memory_bytes / 2**20)}


def start_child(args, recipe: str, most_steps: int = 0) -> subprocess.Popen:
    """A fresh process running ``recipe`` (or ``all``), at most ``most_steps`` timed steps when
    given: peak memory is per process."""
    argv = ["--recipe", recipe, "--model", str(args.model), "--tokenizer", args.tokenizer, "--pairs", str(args.pairs),
            "--batch", str(args.batch), "--row-tokens", str(args.row_tokens), "--rows-per-step",
            str(args.rows_per_step), "--max-seq-tokens", str(args.max_seq_tokens), "--warmup", str(args.warmup),
            "--steps", str(min(args.steps, most_steps or args.steps)), *(["--checkpointing"] if args.checkpointing else [])]
    return subprocess.Popen([sys.executable, __file__, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_child(child: subprocess.Popen) -> dict:
    """The JSON result a child printed; exits with its stderr's end when it printed none."""
    stdout, stderr = child.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        sys.exit(f"{' '.join(child.args[2:4])} failed:\n{stderr[-3000:]}")
    return json.loads(lines[-1][7:])


def save_inputs(args) -> None:
    """``--save-pairs`` / ``--save-model``: write the benchmark's inputs for another machine."""
    import shutil

    if args.save_pairs:
        with tempfile.TemporaryDirectory(prefix="dab-pairs-") as tmp:  # the scratch project stays out of FILE's folder
            args.save_pairs.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(write_pairs(Path(tmp) / "pairs.jsonl", args.tokenizer), args.save_pairs)
        print(f"pairs: {args.save_pairs} ({sum(1 for _ in args.save_pairs.open())} lines)")
    if args.save_model:
        if not args.shape:
            sys.exit("--save-model needs --shape")
        build_shape(args.save_model, args.shape, tokenizer=args.tokenizer)
        print(f"model: {args.save_model} ({args.shape}, random weights, tokenizer {args.tokenizer})")


def write_pairs(path: Path, tokenizer_spec: str) -> Path:
    """Rule-generated pairs from the sample corpus (the product's own pipeline)."""
    from builder.pairs import generate_pairs
    from builder.project import Project
    from builder.storage import write_jsonl
    from builder.documents import ingest_and_chunk
    from builder.templates import sample_documents

    project = Project.create(path.parent / "project")
    cfg = project.load_config()
    cfg.train.base_model = tokenizer_spec
    project.save_config(cfg)
    ingest_and_chunk(project, sample_documents())
    generate_pairs(project)
    write_jsonl(path, [{"question": p.question, "answer": p.answer} for p in project.pairs()])
    return path


def build_shape(folder: Path, shape: str, tokenizer: str | None = None) -> Path:
    """A model of ``shape`` (e.g. Qwen2.5-0.5B) with random weights in bf16, saved as safetensors.

    With ``tokenizer`` (a spec for ``load_tokenizer``), that tokenizer (chat template included) is
    saved beside the weights and its special token ids go into the config, so the folder loads as a
    base model for chat and training."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    model_type, dims = SHAPES[shape]
    config = AutoConfig.for_model(model_type, **dims)
    tok = None
    if tokenizer:
        from builder.models import load_tokenizer

        tok = load_tokenizer(tokenizer)
        config.bos_token_id, config.eos_token_id, config.pad_token_id = (
            tok.bos_token_id, tok.eos_token_id, tok.pad_token_id)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).save_pretrained(folder)
    if tok is not None:
        tok.save_pretrained(folder)
    return folder


def run_recipe(args) -> dict:
    """Warm up, then ``steps`` timed steps per recipe, alternating recipes step by step. ``all``
    runs every recipe available here; with TRL, its trainer drives the loop and the other recipes
    take their step after each of its steps (``TrlStepTimer``)."""
    import torch

    from builder.models import load_tokenizer

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    examples = bench_examples(args, load_tokenizer(args.tokenizer))
    skipped = {"trl"} if trl_skip_reason() else set()
    skipped |= set() if args.checkpointing else {"ours-gc"}
    names = [args.recipe] if args.recipe != "all" else [name for name in RECIPES if name not in skipped]
    setups = {name: SETUPS[name](args, examples, device) for name in names if name != "trl"}
    optimizers = {name: torch.optim.AdamW([p for p in setup[0].parameters() if p.requires_grad], lr=1e-4,
                                          weight_decay=0.0) for name, setup in setups.items()}
    for name in setups:
        for index in range(args.warmup):
            train_step(setups[name], optimizers[name], index, device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    timed = {name: [0.0, 0] for name in setups}

    def step_all(i: int) -> None:
        # Step i starts with the i-th recipe: the first after TRL's step ran ~1.4x slower on an
        # H200 (two recipes doing the same work measured 16.4k and 24.4k tokens/s in fixed order).
        order = list(setups)
        shift = i % len(order) if order else 0  # a TRL-only process has no other recipe
        for name in order[shift:] + order[:shift]:
            started = time.perf_counter()
            tokens = train_step(setups[name], optimizers[name], i, device)
            timed[name][0] += time.perf_counter() - started
            timed[name][1] += tokens

    result = {}
    if "trl" in names:
        from bench.trl_timer import TrlStepTimer

        timer = TrlStepTimer(args.warmup, step_all, lambda: sync(device))
        trainer, detail = build_trl_trainer(args, device, args.warmup + args.steps, [timer])
        if args.recipe == "all":
            try:
                result["trl_checks"] = check_trl_batches(trainer, examples)
            except RuntimeError as error:  # reported with the numbers, which then compare unlike work
                result["trl_checks"] = {"failed": str(error)}
        trainer.train()
        result["trl"] = speed(timer.elapsed_s, timer.tokens, detail)
    else:
        for i in range(1, args.steps + 1):
            step_all(i)
    result.update({name: speed(seconds, tokens, setups[name][2]) for name, (seconds, tokens) in timed.items()})
    return {**result, "peak_memory_mb": round(peak_memory(device) / 2**20)}


def bench_examples(args, tokenizer) -> list:
    """The pairs as the product tokenizes them: system prompt, question, answer-only labels."""
    from builder.conversation import tokenize_conversation
    from builder.dataset import pair_messages
    from builder.storage import read_jsonl

    return [tokenize_conversation(tokenizer, pair_messages(p["question"], p["answer"], SYSTEM_PROMPT),
                                  args.max_seq_tokens)[0] for p in read_jsonl(args.pairs)]


def speed(seconds: float, tokens: int, detail: str) -> dict:
    return {"tokens_per_s": round(tokens / seconds, 1), "real_tokens": tokens, "elapsed_s": round(seconds, 2),
            "detail": detail}


def train_step(setup, optimizer, index: int, device: str) -> int:
    """One optimizer step on batch ``index`` (gradients clipped at norm 1.0, as the product's loop
    and TRL do); returns its real (non-padding) token count."""
    import torch

    model, batches, _, loss_fn = setup
    batch, tokens = batches[index % len(batches)]
    loss_fn(model, {k: v.to(device) for k, v in batch.items()}).backward()
    torch.nn.utils.clip_grad_norm_(optimizer.param_groups[0]["params"], 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    sync(device)
    return tokens


def ours(args, examples, device, checkpointing: bool = False):
    from builder.config import TrainConfig
    from builder.train.data import collate_packed, pack_examples, real_tokens
    from builder.train.recipe import build_lora_model, liger_available, next_token_loss, padded_row_tokens

    tc = TrainConfig(base_model=args.model, quantize="auto", lora_rank=16, lora_alpha=32, preset="custom")
    model = build_lora_model(tc, device, checkpointing=checkpointing)
    row_tokens = args.row_tokens * args.rows_per_step  # one flattened row a step, as the CUDA presets pack it
    rows = pack_examples(examples, row_tokens, seed=0)
    rows.sort(key=lambda row: -sum(len(e.input_ids) for e in row))  # full rows first (the last ones are partial)
    kind = "4-bit NF4, flex attention" + (", Liger" if liger_available() else "") if device == "cuda" else "fp32 LoRA, sdpa per packed pair"
    pad_to = padded_row_tokens(device, row_tokens)
    padded = f" (padded to {pad_to})" if pad_to else ""
    detail = (f"{kind}, packed rows of {row_tokens} tokens{padded}, logits at answer tokens only (their gradient "
              f"written over them), {'non-reentrant GC' if checkpointing else 'no GC'}")
    fused = device == "cuda" and liger_available()
    batches = [(collate_packed(row, pad_to), real_tokens(row)) for row in rows]
    return model, batches, detail, lambda m, b: next_token_loss(m, b, fused)


def peft_recipe(args, examples, device):
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from builder.models import resolve_model

    compute = torch.bfloat16 if device == "cuda" else torch.float32
    bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                             bnb_4bit_compute_dtype=compute)
    model = AutoModelForCausalLM.from_pretrained(resolve_model(args.model), quantization_config=bnb, dtype=compute,
                                                 device_map={"": device}, attn_implementation="sdpa")
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True,
                                            gradient_checkpointing_kwargs={"use_reentrant": False})
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"))
    model.train()  # as the docs' Trainer does: checkpointing acts in training mode only
    batches = [padded_batch(examples[i:i + args.batch], pad_id=0) for i in range(0, len(examples), args.batch)]
    batches = [(batch, int(batch["attention_mask"].sum())) for batch in batches]
    detail = f"4-bit NF4 + prepare_model_for_kbit_training + GC, padded batches of {args.batch}"
    return model, batches, detail, lambda m, b: m(**b).loss


def padded_batch(examples, pad_id: int) -> dict:
    """Right-padded input_ids/attention_mask/labels in the given order (no length grouping)."""
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = [e.input_ids + [pad_id] * (width - len(e.input_ids)) for e in examples]
    mask = [[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in examples]
    labels = [e.labels + [-100] * (width - len(e.labels)) for e in examples]
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask), "labels": torch.tensor(labels)}


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def peak_memory(device: str) -> int:
    import resource

    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


SETUPS = {"ours": ours, "ours-gc": functools.partial(ours, checkpointing=True), "peft": peft_recipe}

if __name__ == "__main__":
    main()
