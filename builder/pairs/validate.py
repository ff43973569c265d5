"""Checks applied to every generated pair: grounding, lengths, garbling, control tokens, injection.

    question = neutralize_control_tokens(question)      # literal "<|im_start|>" becomes inert
    span, score = ground(answer, chunk_text, evidence)    # evidence span + grounding score
    reason = rejection_reason(question, answer, score, pairs_cfg)   # None when the pair is kept
    flags = instruction_flags(question + " " + answer)   # ["instruction_like"] or []

Documents are data, not instructions. What this module covers:

- Control tokens: chat-template markers written literally in a document (``<|im_start|>``,
  ``</s>``, ``[INST]``, ``<start_of_turn>`` ...) would be matched as special tokens when a prompt
  is tokenized. ``neutralize_control_tokens`` inserts a zero-width space after the first
  character of each such marker, so it reads the same but no tokenizer matches it. Pass a
  tokenizer's own ``all_special_tokens`` to cover model-specific markers too. It is idempotent.
- Prompt injection: text that addresses the model ("ignore previous instructions", "you are
  now", "system prompt:") is flagged ``instruction_like``; such pairs stay out of training until
  a person accepts them. This is a pattern list, so it catches common phrasings, not every
  possible paraphrase; the review step is the backstop.

Not covered: facts that are grounded in the document but wrong; that is the reviewer's call.
"""

import re
import unicodedata

from rapidfuzz import fuzz, process

from ..config import PairsConfig
from ..records import words, words_key

ZERO_WIDTH_SPACE = "\u200b"
_CONTROL = re.compile(
    r"<\|[^\s|<>]{1,40}\|>"                       # ChatML / GPT-style: <|im_start|>, <|endoftext|>
    r"|</?s>|<unk>|<pad>|</?bos>|</?eos>|<mask>"  # SentencePiece / BERT style
    r"|<(?:start|end)_of_turn>"                    # Gemma
    r"|\[/?INST\]|<</?SYS>>"                       # Llama 2
    r"|<\|?(?:begin|end)_of_text\|?>"              # Llama 3 variants
    , re.IGNORECASE)
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(?:instructions?|prompts?|rules|guidelines|context)\b"
    r"|\byou are now\b|\bact as (?:an?|the)\b|\bpretend (?:to be|you are)\b"
    r"|\b(?:system|developer) (?:prompt|message)\s*:|\bnew instructions?\s*:"
    r"|\bjailbreak\b|\bdo anything now\b", re.IGNORECASE)
_READABLE_CATEGORIES = {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sc", "Sm"}
_STOPWORDS = frozenset(
    "a an the of to in on at for by with from and or but if then than as is are was were be been being "
    "it its this that these those there their they them he she his her you your we our i me my do does did "
    "can could may might must shall should will would not no yes so such what which who whom whose when "
    "where why how all any each every some about into over under up out".split())


def neutralize_control_tokens(text: str, special_tokens: tuple[str, ...] | list[str] = ()) -> str:
    """Make chat-control markers inert: ``<|im_start|>`` -> ``<`` + U+200B + ``|im_start|>``."""
    def breaks(match: re.Match) -> str:
        token = match.group(0)
        return token[0] + ZERO_WIDTH_SPACE + token[1:]

    text = _CONTROL.sub(breaks, text)
    for token in sorted({t for t in special_tokens if len(t) > 1}, key=len, reverse=True):
        if token in text:
            text = text.replace(token, token[0] + ZERO_WIDTH_SPACE + token[1:])
    return text


def strip_control_tokens(text: str) -> str:
    """Remove chat-control markers (for a teacher's reply: from a model they are never content)."""
    return _CONTROL.sub("", text)


def instruction_flags(text: str) -> list[str]:
    """``["instruction_like"]`` when the text tries to instruct a model, else ``[]``."""
    return ["instruction_like"] if _INJECTION.search(text) else []


def content_words(text: str) -> list[str]:
    """Lower-cased words without stopwords (numbers count: a wrong figure is a wrong answer)."""
    return [w for w in words(text) if w not in _STOPWORDS]


def grounding_score(answer: str, chunk_text: str) -> float:
    """Share of the answer's content words that occur in the chunk (1.0 = all supported)."""
    answer_words = content_words(answer)
    if not answer_words:
        return 0.0
    chunk_words = set(content_words(chunk_text))
    return round(sum(w in chunk_words for w in answer_words) / len(answer_words), 3)


def evidence_span(answer: str, chunk_text: str, evidence: str = "") -> dict | None:
    """Where in the chunk the answer comes from: ``{start, end, text}`` character offsets.

    The generator's own evidence quote is used when it occurs verbatim; otherwise the chunk
    passage that best matches the answer (rapidfuzz partial alignment) is taken.
    """
    start = chunk_text.find(evidence) if evidence.strip() else -1
    if start >= 0:
        end = start + len(evidence)
    else:
        alignment = fuzz.partial_ratio_alignment(answer, chunk_text, processor=str.lower)
        if alignment is None or alignment.score < 50:
            return None
        start, end = alignment.dest_start, alignment.dest_end
    return {"start": start, "end": end, "text": chunk_text[start:end]}


def garbled(text: str) -> bool:
    """Text that is not readable language: mojibake, symbol soup, or endless unbroken runs."""
    stripped = text.strip()
    if not stripped or "\ufffd" in stripped:
        return bool(stripped)
    letters = sum(ch.isalnum() for ch in stripped)  # figures count: "13:00–16:00" is readable
    readable = sum(ch.isalnum() or ch.isspace() or unicodedata.category(ch) in _READABLE_CATEGORIES
                   for ch in stripped)
    longest_run = max((len(word) for word in stripped.split()), default=0)
    return (letters < 0.4 * len(stripped) and len(stripped) > 12) or readable < 0.85 * len(stripped) \
        or longest_run > 60 or bool(re.search(r"(.)\1{9,}", stripped))


def rejection_reason(question: str, answer: str, grounding: float, pairs_cfg: PairsConfig) -> str | None:
    """Why a pair must be dropped (a reconciliation reason), or None to keep it."""
    if not question.strip() or not answer.strip():
        return "empty"
    if garbled(question) or garbled(answer):
        return "garbled"
    if len(question) > pairs_cfg.max_question_chars or len(answer) > pairs_cfg.max_answer_chars:
        return "too_long"
    if len(content_words(question)) < 1 or len(answer.strip()) < 2:
        return "too_short"
    if grounding < pairs_cfg.min_grounding:
        return "ungrounded"
    return None


def near_duplicates(texts: list[str], min_similarity: float, block_rows: int = 512) -> dict[int, int]:
    """``{index: index of the earlier text it duplicates}`` for texts at least ``min_similarity``
    (0-100, rapidfuzz ``ratio`` on normalised text) alike. The first of a group is kept."""
    if len(texts) < 2:
        return {}
    normal = [words_key(t) for t in texts]
    duplicate_of: dict[int, int] = {}
    first_seen: dict[str, int] = {}
    for i, key in enumerate(normal):  # exact duplicates first: cheap, and the common case
        if key in first_seen:
            duplicate_of[i] = first_seen[key]
        else:
            first_seen[key] = i
    unique = sorted(first_seen.values())
    for start in range(0, len(unique), block_rows):  # blocks bound the score matrix's memory
        rows = unique[start:start + block_rows]
        scores = process.cdist([normal[i] for i in rows], [normal[i] for i in unique[:start + len(rows)]],
                               scorer=fuzz.ratio, score_cutoff=min_similarity, dtype="uint8", workers=-1)
        for r, i in enumerate(rows):
            earlier = [unique[j] for j in scores[r, :start + r].nonzero()[0] if unique[j] not in duplicate_of]
            if earlier:
                duplicate_of[i] = earlier[0]
    return duplicate_of
