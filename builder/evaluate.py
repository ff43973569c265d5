"""Does the tuned model know the documents better than the base? Measured on held-out pairs.

    report = evaluate_run(project, run_dir, heldout_pairs)

The first measure is the answer negative log-likelihood (and perplexity): how surprised each
model is by the reference answer, given the question. Lower is better; base and tuned use the
same weights, with the adapter switched off and on. The report is saved as ``eval.json`` in the
run folder.
"""

import math
from pathlib import Path

from .chat import ChatEngine
from .config import ProjectConfig
from .dataset import to_messages
from .storage import write_json
from .train.data import IGNORE_INDEX, collate_packed, tokenize_conversation


def answer_nll(engine: ChatEngine, pairs: list[dict], cfg: ProjectConfig, use_adapter: bool) -> float:
    """Mean per-token NLL of the reference answers (assistant tokens only)."""
    import torch

    total_nll, total_tokens = 0.0, 0
    device = engine.model.device
    with torch.inference_mode(), engine.adapter_enabled(use_adapter):
        for pair in pairs:
            example, _ = tokenize_conversation(engine.tokenizer, to_messages(pair, cfg.chat.system_prompt),
                                               cfg.train.max_seq_tokens)
            batch = {k: v.to(device) for k, v in collate_packed([example]).items()}
            n = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
            total_nll += engine.model(**batch).loss.item() * n
            total_tokens += n
    return total_nll / max(total_tokens, 1)


def evaluate_run(engine: ChatEngine, pairs: list[dict], cfg: ProjectConfig, run_dir: Path | None = None) -> dict:
    """Base vs tuned answer NLL and perplexity on ``pairs``; saved to ``run_dir/eval.json``."""
    base = answer_nll(engine, pairs, cfg, use_adapter=False)
    tuned = answer_nll(engine, pairs, cfg, use_adapter=True)
    report = {"pairs": len(pairs),
              "base": {"answer_nll": round(base, 4), "perplexity": round(math.exp(base), 2)},
              "tuned": {"answer_nll": round(tuned, 4), "perplexity": round(math.exp(tuned), 2)}}
    if run_dir is not None:
        write_json(Path(run_dir) / "eval.json", report)
    return report
