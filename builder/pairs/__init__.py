"""Turn a project's chunks into validated question/answer pairs, keeping the user's review.

    summary = generate_pairs(project)   # uses project.yaml's pairs.generator
    set_status(project, pair_id, "accepted")

Generators (``GENERATORS``): ``rules`` (offline, deterministic), ``local`` (a teacher model via
transformers), ``openai`` (any OpenAI-compatible endpoint). Regeneration never overwrites a pair
the user edited, accepted or rejected. ``neutralize_control_tokens`` makes chat-control markers
in document text inert; it is applied to every pair when it is created.
"""

from . import local, openai_api, rules  # noqa: F401  (register the generators)
from .base import GENERATORS, STATUSES, Candidate, ChunkResult, make_pair
from .pipeline import check_report, format_report, generate_pairs, load_report
from .review import (PairFilter, add_manual_pair, bulk_set_status, edit_pair, set_status, training_pairs,
                     update_pair)
from .validate import neutralize_control_tokens

__all__ = ["GENERATORS", "STATUSES", "Candidate", "ChunkResult", "PairFilter", "add_manual_pair",
           "bulk_set_status", "check_report", "edit_pair", "format_report", "generate_pairs", "load_report",
           "make_pair", "neutralize_control_tokens", "set_status", "training_pairs",
           "update_pair"]
