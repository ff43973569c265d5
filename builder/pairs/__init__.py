"""Turn a project's chunks into validated question/answer pairs, keeping the user's review.

    summary = generate_pairs(project)   # uses project.yaml's pairs.generator
    set_pair_status(project, pair_id, "accepted")

Generators (``GENERATORS``): ``rules`` (offline, deterministic), ``local`` (a teacher model via
transformers), ``openai`` (any OpenAI-compatible endpoint). Regeneration never overwrites a pair
the user edited, accepted or rejected. ``new_pair`` is the one pair constructor (generation, the
manual add, the import); ``neutralize_control_tokens`` makes chat-control markers in its text inert.
"""

from . import local, openai_api, rules  # noqa: F401  (register the generators)
from .base import GENERATORS, Candidate, ChunkResult, new_pair
from .pipeline import check_report, format_report, generate_pairs, load_report
from .review import (PairFilter, ReviewRow, add_manual_pair, apply_edits, bulk_set_status, edit_pair,
                     set_pair_status, shown_values, training_pairs, update_pair)
from .validate import neutralize_control_tokens

__all__ = ["GENERATORS", "Candidate", "ChunkResult", "PairFilter", "ReviewRow", "add_manual_pair", "apply_edits", "bulk_set_status",
           "check_report", "edit_pair", "format_report", "generate_pairs", "load_report", "new_pair",
           "neutralize_control_tokens", "set_pair_status", "shown_values", "training_pairs", "update_pair"]
