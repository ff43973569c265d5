"""Transfer check: how far are the domain documents from what the base model already knows?

    report = transfer_check(project)          # or: dab transfer --project PROJECT
    report["distance"], report["recommended_pairs"]

The thesis: domains close to the pre-training data transfer well from a few hundred pairs;
distant domains need more. We measure the base model's perplexity on the project's chunks and
on a general reference text shipped in ``templates/reference/general.txt`` (ordinary prose),
over the same token budget and window size. ``ratio = ppl_domain / ppl_general``;
``distance = ln(ratio)`` (0 = as familiar as everyday prose; below 0 counts as 0).

The recommendation is a rule of thumb, not a law: ``300 * ratio**1.5`` pairs, rounded to 50 and
kept within 200..5000, with labels ``close`` (ratio < 1.5), ``moderate`` (< 3) and ``distant``.
"""

import math

from . import torch_thread
from .errors import ProjectError
from .models import load_model_and_tokenizer
from .pairs import training_pairs
from .project import Project
from .templates import reference_text

BASE_PAIRS = 300
MIN_PAIRS, MAX_PAIRS = 200, 5000
_PHRASES = {"close": "close to", "moderate": "moderately far from", "distant": "far from"}


def perplexity(model, tokenizer, texts: list[str], window_tokens: int, max_tokens: int) -> tuple[float, int]:
    """Perplexity over up to ``max_tokens`` tokens of ``texts``, scored in windows; (ppl, tokens read)."""
    import torch

    ids: list[int] = []
    for text in texts:
        ids += tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) >= max_tokens:
            break
    ids = ids[:max_tokens]
    total_nll, total_tokens = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(ids), window_tokens):
            window = torch.tensor([ids[start:start + window_tokens]], device=model.device)
            if window.shape[1] < 2:
                continue
            loss = model(input_ids=window, labels=window).loss
            total_nll += loss.item() * (window.shape[1] - 1)
            total_tokens += window.shape[1] - 1
    if total_tokens == 0:
        return float("nan"), 0
    return math.exp(total_nll / total_tokens), len(ids)


def recommended_pairs(ratio: float) -> int:
    """Rule of thumb: more pairs the further the domain is from general text."""
    raw = BASE_PAIRS * max(ratio, 1.0) ** 1.5
    return int(min(MAX_PAIRS, max(MIN_PAIRS, round(raw / 50) * 50)))


def closeness_label(ratio: float) -> str:
    return "close" if ratio < 1.5 else "moderate" if ratio < 3 else "distant"


def distance_report(ppl_domain: float, ppl_general: float, have_pairs: int) -> dict:
    """Score and recommendation from the two perplexities."""
    ratio = ppl_domain / ppl_general
    recommended = recommended_pairs(ratio)
    return {"ppl_domain": round(ppl_domain, 3), "ppl_general": round(ppl_general, 3), "ratio": round(ratio, 3),
            "distance": round(max(0.0, math.log(ratio)), 3), "label": closeness_label(ratio),
            "recommended_pairs": recommended, "have_pairs": have_pairs,
            "advice": (f"the documents are {_PHRASES[closeness_label(ratio)]} general text (perplexity ×{ratio:.2f}); "
                       f"aim for about {recommended} pairs (you have {have_pairs})")}


def transfer_check(project: Project, model_spec: str | None = None, max_tokens: int = 4096,
                   window_tokens: int = 512, model=None, tokenizer=None) -> dict:
    """Perplexity of the base model on the project's chunks vs the general reference text."""
    if model is None or tokenizer is None:
        model, tokenizer = torch_thread.call(load_model_and_tokenizer,
                                             model_spec or project.load_config().train.base_model)
    model.eval()
    chunks = [c.text for c in project.chunks()]
    if not chunks:
        raise ProjectError("no chunks yet: add documents first (dab ingest)")
    general = reference_text()
    ppl_domain, domain_tokens = torch_thread.call(perplexity, model, tokenizer, chunks, window_tokens, max_tokens)
    ppl_general, general_tokens = torch_thread.call(perplexity, model, tokenizer, [general], window_tokens,
                                                    min(max_tokens, domain_tokens) or max_tokens)
    report = distance_report(ppl_domain, ppl_general, len(training_pairs(project.pairs())))
    return {**report, "domain_tokens": domain_tokens, "general_tokens": general_tokens}
