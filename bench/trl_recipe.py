"""The TRL baseline of bench/train.py: ``SFTTrainer`` configured as TRL documents packed SFT.

    reason = trl_skip_reason()            # None, or why the baseline cannot run (not installed, too old)
    trainer, detail = build_trl_trainer(args, device, max_steps, callbacks=[timer])
    checks = check_trl_batches(trainer, our_examples)   # completion-only labels, no attention across examples
    trainer.train()

The configuration is what a practitioner picks today for short instruction pairs: prompt-completion
conversations, ``packing=True`` with the best-fit-decreasing strategy (which turns padding-free on:
one flattened row per batch with restarting ``position_ids``), ``completion_only_loss=True``, rows of
``--row-tokens``, LoRA r=16/alpha=32 on all linear layers, and TRL's defaults otherwise (gradient
checkpointing on, gradient clipping at 1.0, its chunked fused LM head for the loss). Optimizer and
learning rate match the other recipes (AdamW, constant 1e-4, no weight decay); fp32 on CPU, where
bf16 autocast (TRL's default) is far slower. ``bench/trl_timer.py`` times its steps.
"""

from importlib import metadata

MIN_TRL = "1.16"
SYSTEM_PROMPT = "You are a helpful assistant."


def trl_skip_reason() -> str | None:
    """Why the TRL baseline cannot run here (not installed, older than ``MIN_TRL``), or None."""
    from packaging.version import Version

    hint = "pip install 'domain-assistant-builder[bench]'"
    try:
        installed = metadata.version("trl")
    except metadata.PackageNotFoundError:
        return f"TRL is not installed ({hint}): skipping the TRL baseline"
    if Version(installed) < Version(MIN_TRL):
        return f"TRL {installed} is installed but the baseline needs trl>={MIN_TRL} ({hint}): skipping the TRL baseline"
    return None


def build_trl_trainer(args, device: str, max_steps: int, callbacks: list):
    """An ``SFTTrainer`` on the benchmark's pairs and model, and a one-line description of it."""
    import tempfile

    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import BitsAndBytesConfig
    from trl import SFTConfig, SFTTrainer

    from builder.dataset import pair_messages
    from builder.models import load_tokenizer, resolve_model
    from builder.storage import read_jsonl

    on_cuda = device == "cuda"
    conversations = [pair_messages(pair["question"], pair["answer"], SYSTEM_PROMPT) for pair in read_jsonl(args.pairs)]
    dataset = Dataset.from_list([{"prompt": m[:-1], "completion": m[-1:]} for m in conversations])
    config = SFTConfig(
        output_dir=tempfile.mkdtemp(prefix="dab-trl-"), max_length=args.row_tokens, packing=True,
        packing_strategy="bfd", padding_free=True, completion_only_loss=True,
        per_device_train_batch_size=args.rows_per_step,
        learning_rate=1e-4, lr_scheduler_type="constant", weight_decay=0.0, optim="adamw_torch",
        bf16=on_cuda, use_cpu=not on_cuda, use_liger_kernel=on_cuda and liger_installed(), max_steps=max_steps,
        train_sampling_strategy="sequential", include_num_input_tokens_seen="all", save_strategy="no",
        logging_steps=max_steps, report_to="none", disable_tqdm=True, seed=0,
        model_init_kwargs={"dtype": torch.bfloat16 if on_cuda else torch.float32, "attn_implementation": "sdpa"})
    quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                      bnb_4bit_compute_dtype=torch.bfloat16) if on_cuda else None
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=resolve_model(str(args.model)), args=config, train_dataset=dataset,
                         processing_class=load_tokenizer(args.tokenizer), peft_config=lora,
                         quantization_config=quantization, callbacks=callbacks)
    kind = "4-bit NF4, bf16" + (", Liger" if config.use_liger_kernel else "") if on_cuda else "fp32 LoRA"
    rows = f"{args.rows_per_step} x " if args.rows_per_step > 1 else ""
    detail = (f"TRL {metadata.version('trl')} SFTTrainer, {kind}, sdpa, packing (bfd) + padding-free rows of "
              f"{rows}{args.row_tokens} tokens, completion-only loss, fused chunked LM head, "
              f"gradient checkpointing {'on' if config.gradient_checkpointing else 'off'} (its default)")
    return trainer, detail


def liger_installed() -> bool:
    from transformers.utils import is_liger_kernel_available

    return is_liger_kernel_available()


def check_trl_batches(trainer, our_examples: list) -> dict:
    """What TRL trains on, checked against our recipe; raises ``RuntimeError`` when it differs.

    Labels: the multiset of token ids that carry a loss over all of TRL's packed rows equals ours
    (the answers and their end-of-turn tokens; no system or question token). Rows: no padding
    (every position is a real token). Boundaries: the logits of the packed row with the most
    examples, run as TRL feeds it (``position_ids`` and sequence lengths, no attention mask),
    match each of its examples run alone (within 1e-3 in fp32; in bf16, which rounds differently in
    a longer row, 20 times closer than the control), while the same row without ``position_ids``
    (causal attention across examples) must differ by more: the control shows that the comparison
    can tell the two apart."""
    from collections import Counter

    batches = [trainer.data_collator([row]) for row in trainer.train_dataset]
    theirs = Counter(t for b in batches for t in b["input_ids"][b["labels"] != -100].tolist())
    ours = Counter(t for e in our_examples for t, label in zip(e.input_ids[1:], e.labels[1:]) if label != -100)
    if theirs != ours:
        raise RuntimeError(f"TRL learns other tokens: {sum(theirs.values())} labels vs our {sum(ours.values())}")
    if sum(sum(row["seq_lengths"]) for row in trainer.train_dataset) != sum(b["input_ids"].numel() for b in batches):
        raise RuntimeError("TRL's rows contain padding")
    most_examples = max(batches, key=lambda batch: len(batch["cu_seq_lens_q"]))
    packed_max, control_max = boundary_errors(trainer.model, most_examples)
    tolerance = control_max / 20 if trainer.args.bf16 else 1e-3  # H200, 1.5B shape: 0.125 vs 5.95
    if not packed_max < tolerance < control_max:
        raise RuntimeError(f"TRL's packed examples attend across boundaries ({packed_max} vs {control_max})")
    return {"label_tokens": sum(theirs.values()), "label_tokens_match_ours": True, "rows": len(batches),
            "max_logit_diff_packed_vs_alone": float(f"{packed_max:.2g}"),
            "max_logit_diff_without_boundaries": float(f"{control_max:.2g}")}


def boundary_errors(model, batch: dict) -> tuple[float, float]:
    """Max |logit difference| of a packed row vs its examples alone: as TRL feeds it, and without
    ``position_ids`` (causal attention across the whole row)."""
    import torch

    device = next(model.parameters()).device
    inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items() if k != "labels"}
    bounds = batch["cu_seq_lens_q"].tolist()
    model.eval()
    with torch.no_grad():
        packed = model(**inputs, use_cache=False).logits[0].float()
        control = model(input_ids=inputs["input_ids"], use_cache=False).logits[0].float()
        alone = torch.cat([model(input_ids=inputs["input_ids"][:, a:b], use_cache=False).logits[0].float()
                           for a, b in zip(bounds, bounds[1:])])
    model.train()
    return (packed - alone).abs().max().item(), (control - alone).abs().max().item()
