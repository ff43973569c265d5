"""Continuous batching for the chat engine: answers join and leave one shared decode loop.

    batcher = Batcher(engine)                       # one per ChatEngine (``ChatEngine.start`` uses it)
    batcher.add(Answer(generation, prompt_ids, max_new_tokens=64, stop_ids={2}))   # from any thread

An answer is first prefilled alone (its prompt in a batch of one: its KV cache and its first
token; what its prompt shares at the start with the last prompt of the same adapter choice, the
chat template, system prompt and earlier turns, is taken from that prompt's cache:
``PromptStarts``), then its cache is left-padded into the running batch. Each decode step then
makes one token for every answer in the batch with one forward pass: on a CPU, a step of 8 rows costs
little more than a step of one, since the weights are read once for all of them
(``bench/chat.py --concurrency 8``). Between steps, an answer that has ended leaves the batch
(its own end-of-sequence tokens, its own token limit, or cancelled: its client left, or
``stop()``): its row is dropped and the cache columns only padding fills are cut. Answers
waiting in line join between steps, first come first served, up to ``max_rows``. Each answer
has its own sampling settings and logits processors (temperature, top-p, a JSON constraint);
its text goes to its own streamer, so one stream never sees another's tokens.

Runs on the process's torch thread (``builder.torch_thread``) in slices of ``SLICE_STEPS``
steps, each queued again behind whatever other model work waits there (an evaluation, a
scoring), so a busy server does not starve the rest of the process. All answers of a batch
share one adapter choice (on, off or a named adapter): an answer asking for another waits
until the batch has drained. Models whose cache is not transformers' plain ``DynamicCache``
(sliding-window layers, ...) cannot have rows merged; they answer one at a time.
"""

import collections
import functools
import threading
from dataclasses import dataclass, field

from . import torch_thread

SLICE_STEPS = 16
MAX_ROWS = 16
MIN_SHARED_TOKENS = 16  # a shorter shared prompt start is computed again rather than copied
MAX_KEPT_TOKENS = 4096  # a longer prompt's cache is not kept (on a GPU, a 7B model's would hold ~0.5 GB)


@dataclass(eq=False)
class Answer:
    """One answer's state in the loop: its ``chat.Generation`` (stream, cancel flag, counts),
    its prompt, limits, stop tokens, logits processors and adapter choice."""

    generation: object
    prompt_ids: list[int]
    max_new_tokens: int
    stop_ids: frozenset = frozenset()
    processors: list = field(default_factory=list)
    sample: bool = False
    adapter: bool | str = True
    tokens: list[int] = field(default_factory=list)

    def take(self, scores) -> bool:
        """Pick the next token from this answer's ``scores`` (1, vocab), stream it; True when the answer ends."""
        import torch

        if self.processors:
            ids = torch.tensor([self.prompt_ids + self.tokens], device=scores.device)
            for processor in self.processors:
                scores = processor(ids, scores)
        if self.sample:
            token = int(torch.multinomial(torch.softmax(scores.float(), dim=-1), 1)[0, 0])
        else:
            token = int(scores.argmax(dim=-1)[0])
        self.tokens.append(token)
        self.generation.streamer.put(torch.tensor([token]))
        cancelled = self.generation.count_token()
        return cancelled or token in self.stop_ids or len(self.tokens) >= self.max_new_tokens

    def finish(self, error: BaseException | None = None) -> None:
        """End the stream (with ``error`` for the reader to raise) and mark the answer done."""
        self.generation.error = error
        self.generation.streamer.end()
        self.generation.done.set()


def left_pad(tensor, length: int, dim: int):
    """``tensor`` padded with zeros at the start of ``dim`` (-1 or -2) to ``length``."""
    import torch.nn.functional as F

    missing = length - tensor.shape[dim]
    return tensor if missing == 0 else F.pad(tensor, (0, 0, missing, 0) if dim == -2 else (missing, 0))


class DecodeBatch:
    """The rows being decoded together: their answers, one left-padded KV cache, the attention mask."""

    def __init__(self):
        self.answers: list[Answer] = []
        self.cache = None
        self.mask = None  # (rows, cache length): 1 for real tokens, 0 for left padding

    def join(self, answer: Answer, cache) -> None:
        """Add a prefilled answer and its one-row cache (left-padding whichever is shorter)."""
        import torch

        row_mask = torch.ones(1, cache.get_seq_length(), dtype=torch.long, device=cache.layers[0].keys.device)
        if not self.answers:
            self.answers, self.cache, self.mask = [answer], cache, row_mask
            return
        total = max(self.mask.shape[1], row_mask.shape[1])
        for mine, theirs in zip(self.cache.layers, cache.layers):
            mine.keys = torch.cat([left_pad(mine.keys, total, -2), left_pad(theirs.keys, total, -2)])
            mine.values = torch.cat([left_pad(mine.values, total, -2), left_pad(theirs.values, total, -2)])
        self.mask = torch.cat([left_pad(self.mask, total, -1), left_pad(row_mask, total, -1)])
        self.answers.append(answer)

    def keep(self, rows: list[int]) -> None:
        """Keep only ``rows`` (the others ended); cut the leading columns that are padding in every row."""
        import torch

        if not rows:
            self.answers, self.cache, self.mask = [], None, None
            return
        index = torch.tensor(rows, device=self.mask.device)
        mask = self.mask[index]
        start = int((mask.sum(dim=0) > 0).long().argmax())  # the first column some row uses
        for layer in self.cache.layers:
            layer.keys, layer.values = layer.keys[index, :, start:], layer.values[index, :, start:]
        self.answers, self.mask = [self.answers[row] for row in rows], mask[:, start:]

    def step(self, model):
        """One forward pass for the last token of every row: the next-token logits, (rows, vocab)."""
        import torch

        last = torch.tensor([[answer.tokens[-1]] for answer in self.answers], device=model.device)
        self.mask = torch.cat([self.mask, self.mask.new_ones(len(self.answers), 1)], dim=1)
        positions = self.mask.sum(dim=1, keepdim=True) - 1
        out = model(input_ids=last, attention_mask=self.mask, position_ids=positions, logits_to_keep=1,
                    **cache_kwargs(model, self.cache))
        return out.logits[:, -1].float()


@functools.cache
def cache_keyword(model_class: type) -> str:
    """The forward keyword for the KV cache: ``cache`` in newer transformers, ``past_key_values`` before."""
    import inspect

    return "cache" if "cache" in inspect.signature(model_class.forward).parameters else "past_key_values"


def cache_kwargs(model, cache) -> dict:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return {cache_keyword(type(base)): cache, "use_cache": True}


def mergeable(cache) -> bool:
    """Whether rows of this cache can be merged by ``DecodeBatch.join`` (plain dynamic layers only)."""
    from transformers.cache_utils import DynamicLayer

    return all(type(layer) is DynamicLayer for layer in cache.layers)


class PromptStarts:
    """The KV cache of the last prompt prefilled for each adapter choice, so that the next prompt
    that starts the same way (the chat template and system prompt, the earlier turns of a
    conversation) computes only what follows. The cached tensors are those the prefill made:
    decoding concatenates new ones and never writes into them, so keeping them costs no copy.
    Base and tuned answers differ in their weights, hence one entry per adapter choice."""

    def __init__(self):
        self.kept: dict = {}  # adapter choice -> (prompt ids, [(keys, values) per layer])

    def reuse(self, adapter, prompt_ids: list[int], model):
        """A cache holding the longest start ``prompt_ids`` shares with the kept prompt (at least
        ``MIN_SHARED_TOKENS``, at most all but its last token), and that start's length in tokens."""
        from transformers import DynamicCache

        cache = DynamicCache(config=model.config)
        ids, layers = self.kept.get(adapter, ((), []))
        shared = shared_start(ids, prompt_ids[:-1])
        if shared < MIN_SHARED_TOKENS:
            return cache, 0
        for index, (keys, values) in enumerate(layers):
            cache.update(keys[..., :shared, :], values[..., :shared, :], index)
        return cache, shared

    def keep(self, adapter, prompt_ids: list[int], cache) -> None:
        """Remember this prompt's cache in place of the last one (only plain dynamic caches: others
        may be cut or rolled; only prompts up to ``MAX_KEPT_TOKENS``)."""
        self.kept.pop(adapter, None)
        if mergeable(cache) and len(prompt_ids) <= MAX_KEPT_TOKENS:
            self.kept[adapter] = (list(prompt_ids), [(layer.keys, layer.values) for layer in cache.layers])


def shared_start(a, b) -> int:
    """How many leading items ``a`` and ``b`` have in common."""
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count


class Batcher:
    """The queue of answers waiting to join and the batch being decoded, for one engine."""

    def __init__(self, engine, max_rows: int = MAX_ROWS):
        self.engine, self.max_rows = engine, max_rows
        self.waiting: collections.deque[Answer] = collections.deque()
        self.batch = DecodeBatch()
        self.lock = threading.Lock()  # guards waiting, prefilling and scheduled
        self.scheduled = False
        self.prefilling: Answer | None = None  # between leaving ``waiting`` and joining the batch
        self.row_limit = max_rows  # 1 once the model's cache turns out not to merge
        self.starts = PromptStarts()

    def add(self, answer: Answer) -> None:
        """Queue ``answer``; the loop runs on the torch thread while there is work."""
        with self.lock:
            self.waiting.append(answer)
            if not self.scheduled:
                self.scheduled = True
                torch_thread.submit(self.run_slice)

    def unfinished(self) -> list[Answer]:
        """Every answer not yet ended: waiting, being prefilled (its first token may already be
        streamed) and being decoded."""
        with self.lock:
            return [*self.waiting, *filter(None, [self.prefilling]), *self.batch.answers]

    def run_slice(self) -> None:
        """Up to ``SLICE_STEPS`` decode steps (answers join and leave between them); queued again while work remains."""
        import torch

        try:
            adapter = self.batch.answers[0].adapter if self.batch.answers else self.next_adapter()
            if adapter is not None:
                with torch.inference_mode(), self.engine.adapter_enabled(adapter):
                    for _ in range(SLICE_STEPS):
                        self.admit(adapter)
                        if not self.batch.answers:
                            break
                        self.decode()
        except BaseException as exc:  # every answer in the batch hears of it; the loop goes on for the others
            for answer in self.batch.answers:
                answer.finish(exc)
            self.batch.keep([])
        with self.lock:
            self.scheduled = bool(self.waiting or self.batch.answers)
            if self.scheduled:
                torch_thread.requeue(self.run_slice)

    def next_adapter(self):
        """The adapter choice of the first waiting answer (answers cancelled while waiting end here)."""
        with self.lock:
            while self.waiting and self.waiting[0].generation.stop_event.is_set():
                self.waiting.popleft().finish()
            return self.waiting[0].adapter if self.waiting else None

    def admit(self, adapter) -> None:
        """Prefill waiting answers with this adapter choice, in order, while the batch has room."""
        while len(self.batch.answers) < self.row_limit:
            with self.lock:
                if not self.waiting or self.waiting[0].adapter != adapter:
                    return
                answer = self.prefilling = self.waiting.popleft()
            try:
                if answer.generation.stop_event.is_set():
                    answer.finish()
                else:
                    self.prefill(answer)
            except Exception as exc:  # this answer's failure (a prompt too long for memory): the others go on
                answer.finish(exc)
            finally:
                with self.lock:
                    self.prefilling = None

    def prefill(self, answer: Answer) -> None:
        """Run the answer's prompt alone (what follows the start it shares with the last prompt,
        ``PromptStarts``), take its first token; it joins the batch unless it already ended."""
        import torch

        model = self.engine.model
        cache, shared = self.starts.reuse(answer.adapter, answer.prompt_ids, model)
        ids = torch.tensor([answer.prompt_ids[shared:]], device=model.device)
        mask = torch.ones(1, len(answer.prompt_ids), dtype=torch.long, device=model.device)
        answer.generation.streamer.next_tokens_are_prompt = False
        out = model(input_ids=ids, attention_mask=mask, logits_to_keep=1, **cache_kwargs(model, cache))
        self.starts.keep(answer.adapter, answer.prompt_ids, cache)
        if answer.take(out.logits[:, -1].float()):
            answer.finish()
            return
        if not mergeable(cache):
            self.row_limit = 1
        self.batch.join(answer, cache)

    def decode(self) -> None:
        """One token for every row; the answers that ended leave."""
        logits = self.batch.step(self.engine.model)
        kept = []
        for row, answer in enumerate(self.batch.answers):
            if answer.take(logits[row:row + 1]):
                answer.finish()
            else:
                kept.append(row)
        if len(kept) < len(self.batch.answers):
            self.batch.keep(kept)
