"""Times TRL's steps inside its own loop, for bench/train.py.

``TrlStepTimer`` times each optimizer step between ``on_step_begin`` and ``on_step_end`` (forward,
backward, clipping, optimizer step; the batch is already fetched) and runs the other recipes'
steps after each one, so the recipes alternate step by step in one process. A module of its own
because importing ``TrainerCallback`` loads transformers' Trainer (~150 MB resident): the other
recipes' peak-memory processes must not carry what only TRL uses.
"""

import time

from transformers import TrainerCallback


class TrlStepTimer(TrainerCallback):
    """Times each TRL step after ``warmup`` and runs ``between(i)`` (the other recipes' timed step
    ``i``) after TRL's step ``i``; ``sync`` waits for the device."""

    def __init__(self, warmup: int, between, sync):
        self.warmup, self.between, self.sync = warmup, between, sync
        self.elapsed_s, self.tokens, self.step_tokens, self.started, self.seen = 0.0, 0, [], 0.0, 0

    def on_step_begin(self, args, state, control, **kwargs):
        self.sync()
        self.seen, self.started = state.num_input_tokens_seen, time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.sync()
        elapsed = time.perf_counter() - self.started
        if state.global_step > self.warmup:
            tokens = state.num_input_tokens_seen - self.seen
            self.elapsed_s, self.tokens = self.elapsed_s + elapsed, self.tokens + tokens
            self.step_tokens.append(tokens)
            self.between(state.global_step - self.warmup)
