"""The training loop: LoRA / QLoRA over packed, assistant-only rows, with checkpoints and resume.

    status = run_training(project)                       # a new run folder under runs/
    status = run_training(project, run_dir, resume=True) # continue from its last checkpoint

Writes into the run folder (``runs.Run`` describes it): ``config.yaml`` (resolved), ``data.json``
(fingerprint, counts, plan, warnings), ``metrics.jsonl`` (one line per step: step, loss, lr,
tokens_per_s, memory_mb, eta_s; eval lines: step, eval_loss, recall, best), ``status.json`` (state
for the UI and CLI), ``checkpoints/step-N/`` (atomic; the latest and the best are kept),
``adapter/`` (safetensors, the best checkpoint when there is held-out data) and, last, the
``COMPLETE`` marker. While it runs, ``status.json`` names what it is doing (``message``: the first
step, measuring an evaluation, training, evaluating, saving) with the time left (``eta_s``, from
measured step and evaluation times: ``eta.RunClock``).

The best checkpoint is chosen by the **recall check** when the run has held-out pairs with key
facts (``splits``): after each evaluation up to ``MAX_RECALL_QUESTIONS`` held-out phrasings of
trained facts and ``MAX_UNSEEN_QUESTIONS`` questions about passages left out of training are
asked as chat asks them (greedy, the chat's system prompt, over the passages search finds when
"Answer from the documents" is on: ``recall_messages``) and the share of answers that state the
reference's key facts is logged as ``recall``; the step with the highest recall wins, the eval
loss breaking ties. More epochs can overfit (answers drift while the loss on held-out answers
still looks fine), so the kept adapter is the one that knew most facts. The unseen-passage
questions measure reading rather than memory: users' questions are worded unlike any trained
one, and reading them is what memorised phrasings overstate (handbook corpus, the five
evaluated steps of one run: hand-written questions read right 7, 12, 6, 6 and 5 of 40; the unseen
questions ranked the steps the same way, the recall phrasings alone put the first step last). A ``STOP``
file or SIGTERM ends training after the current micro-batch: the unfinished step is dropped,
the last finished one is saved (a stop within seconds, even when a step takes minutes).
"""

import math
import signal
import threading
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

from ..answers import grounded_prompt
from ..config import ChatConfig, ProjectConfig
from ..conversation import encode_chat
from ..dataset import pair_messages
from ..errors import TrainingError
from ..eval_sets import reference, spread
from ..generation import fact_accuracy, greedy_texts, reference_facts
from ..project import Project
from ..runs import Run
from ..storage import append_jsonl, replace_dir, write_jsonl
from ..torch_thread import fit_waits
from . import checkpoint as ckpt
from .sharding import weight_values_held, whole_optimizer_state, whole_trainable_state
from .data import collate_packed, label_tokens, real_tokens, rows_for_step
from .eta import RunClock, evaluation_steps
from .distributed import Dist, any_rank, barrier, from_rank0, setup_distributed, sum_across, teardown_distributed, wrap_model
from .lock import handed_over_token, release_lock
from .presets import auto_interval
from .recipe import next_token_loss
from .setup import Prepared, claim_run, failure_message, log, prepare

MAX_EVAL_ROWS = 32
EVALUATIONS_PER_RUN = 5  # each asks the recall questions: generation is the slow part of an evaluation
MAX_RECALL_QUESTIONS = 16
MAX_UNSEEN_QUESTIONS = 8
MAX_RECALL_NEW_TOKENS = 48
RECALL_BATCH = 8  # recall questions generated together, at most
RECALL_BATCH_TOKENS = 2048  # and at most this many prompt tokens: grounded prompts (~450 tokens) go 4 at a
# time, so the check's memory peak stays near a short batch's (bundled model: 8 x 500 tokens +1.0 GB, 4 x 500 +0.6 GB)
STATUS_EVERY_S = 1.0  # status.json is rewritten at most this often between logged steps


@dataclass
class TrainingProgress:
    """What a checkpoint must remember besides the weights."""

    step: int = 0
    best_eval_loss: float | None = None
    best_recall: float | None = None
    best_step: int = 0
    evals_without_gain: int = 0
    early_stopped: bool = False


class StopSignal:
    """A stop is requested by a ``STOP`` file in the run folder (``Run.request_stop``) or by SIGTERM."""

    def __init__(self, run: Run):
        self.path, self.flag, self.previous = run.stop_path, False, None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.flag = True

    def requested(self, dist: Dist) -> bool:
        return any_rank(self.flag or self.path.exists(), dist)

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def run_training(project: Project, run_dir: Path | None = None, project_cfg: ProjectConfig | None = None,
                 resume: bool = False) -> dict:
    """Train (or resume) one LoRA adapter on the project's pairs; returns the final status."""
    dist = setup_distributed()
    try:
        claimed = claim_run(project, run_dir, resume, handed_over_token())[0].folder if dist.main else ""
        run = Run(from_rank0(str(claimed), dist))
        if dist.main:
            log(f"training run: {run.folder}")
        stop = StopSignal(run)
        try:
            return train_run(project, run, project_cfg, resume, dist, stop)
        except Exception as exc:
            message = failure_message(exc, run)
            if dist.main:
                run.write_status("failed", message=message, resumable=bool(ckpt.complete_checkpoints(run.folder)))
            if isinstance(exc, TrainingError) or message.startswith("training failed"):
                raise
            raise TrainingError(message) from exc
        finally:
            stop.restore()
            if dist.main:
                release_lock(project.root, run.folder)
    finally:
        teardown_distributed(dist)


def train_run(project: Project, run: Run, project_cfg: ProjectConfig | None, resume: bool, dist: Dist,
              stop: StopSignal) -> dict:
    """Prepare data and model, restore a checkpoint when resuming, train, save."""
    import torch

    if resume and dist.main:
        run.stop_path.unlink(missing_ok=True)
        run.marker_path.unlink(missing_ok=True)
    barrier(dist)
    prep = prepare(project, run, project_cfg, resume, dist)
    tc = prep.run_cfg.train
    model = wrap_model(prep.model, dist)
    if dist.sharded:
        held, whole = weight_values_held(model)
        log(f"FSDP: rank {dist.rank}/{dist.world} holds {held} of {whole} weight values")
    params = [p for p in prep.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=tc.learning_rate, weight_decay=0.0)
    from transformers import get_cosine_schedule_with_warmup

    scheduler = get_cosine_schedule_with_warmup(optimizer, int(tc.warmup_fraction * prep.total_steps), prep.total_steps)
    session = Session(project, prep, model, optimizer, scheduler, params, dist, run)
    progress = session.restore() if resume else TrainingProgress()
    session.write_status(progress.step, "first training step: the time left is measured from it")
    session.train(progress, stop)
    return session.finish(progress, stop)


class Session:
    """One training session over prepared data: steps, evaluation, checkpoints, the final save."""

    def __init__(self, project: Project, prep: Prepared, model, optimizer, scheduler, params, dist: Dist, run: Run):
        self.project, self.prep, self.model = project, prep, model
        self.optimizer, self.scheduler, self.params = optimizer, scheduler, params
        self.dist, self.run, self.tc = dist, run, prep.run_cfg.train
        self.eval_rows = prep.eval_rows[:MAX_EVAL_ROWS]
        self.eval_every = auto_interval(self.tc.eval_every_steps, prep.total_steps, EVALUATIONS_PER_RUN)
        self.checkpoint_every = auto_interval(self.tc.checkpoint_every_steps, prep.total_steps)
        self.started, self.tokens_seen, self.first_step = time.monotonic(), 0, 0
        self.saved_step = None  # the step of the last checkpoint written or restored (the same on every rank)
        eval_steps = evaluation_steps(prep.total_steps, self.eval_every) if self.eval_rows else set()
        self.clock, self.eta_s, self.status_at = RunClock(prep.total_steps, eval_steps), None, 0.0

    def restore(self) -> TrainingProgress:
        """Load the newest usable checkpoint (damaged ones are skipped); trim later metrics."""
        found = ckpt.load_latest_checkpoint(self.run.folder, log=log)
        if found is None:
            log("no usable checkpoint: starting from step 0")
            return TrainingProgress()
        ckpt.restore_checkpoint(found, self.model, self.optimizer, self.scheduler)
        progress = TrainingProgress(**{k: v for k, v in found.state.items() if k in TrainingProgress.__dataclass_fields__})
        if self.dist.main:
            write_jsonl(self.run.metrics_path, [row for row in self.run.metrics() if row.get("step", 0) <= progress.step])
        log(f"resumed from {found.path.name}")
        self.first_step = self.saved_step = progress.step
        return progress

    def train(self, progress: TrainingProgress, stop: StopSignal) -> None:
        while progress.step < self.prep.total_steps and not progress.early_stopped:
            result = self.train_step(progress.step + 1, stop)
            if result is None:
                return
            progress.step += 1
            self.clock.step_done()
            if progress.step == self.first_step + 1:
                self.probe_evaluation(progress.step)
            self.log_step(progress.step, *result)
            self.evaluate_and_checkpoint(progress, final=progress.step == self.prep.total_steps)
            if stop.requested(self.dist):
                return

    def train_step(self, step: int, stop: StopSignal) -> tuple[float, int] | None:
        """One optimizer step over ``grad_accum`` rows; None if a stop came before it finished.
        While other processes keep the cores busy, OpenMP waits are short (``torch_thread.fit_waits``):
        spinning workers beside a chat or another training trained ~4x slower."""
        import torch

        fit_waits()
        rows = rows_for_step(self.prep.train_rows, step, self.tc.grad_accum, self.dist.rank, self.dist.world, self.tc.seed)
        total_loss, tokens = 0.0, 0
        for i, row in enumerate(rows):
            if stop.requested(self.dist):
                self.optimizer.zero_grad(set_to_none=True)
                return None
            batch = {k: v.to(self.prep.device) for k, v in collate_packed(row, self.prep.pad_to).items()}
            # DDP reduces gradients once per step; FSDP at every micro-batch, so they stay sharded
            syncing = self.dist.world == 1 or self.dist.sharded or i == len(rows) - 1
            with nullcontext() if syncing else self.model.no_sync():
                loss = next_token_loss(self.model, batch, self.prep.fused_loss) / len(rows)
                loss.backward()
            total_loss += loss.item()
            tokens += real_tokens(row)
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum, token_sum = sum_across([total_loss, tokens], self.dist)
        return loss_sum / self.dist.world, int(token_sum)

    def write_status(self, step: int, message: str) -> None:
        """``status.json`` while running: the step, what the run is doing now and the time left."""
        if self.dist.main:
            eta = {} if self.eta_s is None else {"eta_s": round(self.eta_s, 1)}
            self.run.write_status("running", step=step, total_steps=self.prep.total_steps, pid=self.prep.pid,
                                  message=message, **eta)
            self.status_at = time.monotonic()

    def log_step(self, step: int, loss: float, tokens: int) -> None:
        self.tokens_seen += tokens
        elapsed = time.monotonic() - self.started
        self.eta_s = self.clock.remaining_s(step)
        logged = step % self.tc.log_every_steps == 0 or step == self.prep.total_steps
        if self.dist.main and logged:
            append_jsonl(self.run.metrics_path, {
                "step": step, "epoch": round(step / self.prep.steps_per_epoch, 3), "loss": round(loss, 4),
                "lr": self.scheduler.get_last_lr()[0], "tokens_per_s": round(self.tokens_seen / elapsed, 1),
                "memory_mb": round(peak_memory_bytes(self.prep.device) / 2**20), "elapsed_s": round(elapsed, 1),
                "eta_s": round(self.eta_s, 1)})
        if logged or time.monotonic() - self.status_at >= STATUS_EVERY_S:
            self.write_status(step, "training")

    def evaluate_and_checkpoint(self, progress: TrainingProgress, final: bool = False, stopping: bool = False) -> None:
        """Eval loss every ``eval_every`` steps (and at the end, unless stopping); checkpoint when
        it improved, on schedule, or at the end."""
        improved = False
        if self.eval_rows and (progress.step % self.eval_every == 0 or final and not stopping):
            done, what = len(self.clock.eval_s), "eval loss and recall check" if self.recall_questions() else "eval loss"
            self.write_status(progress.step, f"evaluating: {what} "
                                             f"({done + 1} of {done + self.clock.evaluations_left(progress.step)})")
            with self.clock.evaluating():  # rank 0's recall decides for all: their checkpoints must agree
                eval_loss, recall = self.evaluate(), from_rank0(self.recall_accuracy(), self.dist)
            improved = better(recall, eval_loss, progress)
            if improved:
                progress.best_eval_loss, progress.best_recall = eval_loss, recall
                progress.best_step, progress.evals_without_gain = progress.step, 0
            else:
                progress.evals_without_gain += 1
            if self.dist.main:
                append_jsonl(self.run.metrics_path, {"step": progress.step, "eval_loss": round(eval_loss, 4),
                                                     "recall": recall, "best": improved})
            patience = self.tc.early_stopping_patience
            progress.early_stopped = bool(patience) and progress.evals_without_gain >= patience
        if improved or final or progress.step % self.checkpoint_every == 0:
            self.save_checkpoint(progress)

    def recall_questions(self) -> list:
        """The recall check's questions (``check_questions``); none when the check is off."""
        return check_questions(self.prep.recall_pairs, self.prep.unseen_pairs) if self.tc.recall_check else []

    def recall_answers(self, refs: list, new_tokens: int) -> list[str]:
        """Greedy answers to ``refs`` asked as chat asks them, at most ``new_tokens`` each."""
        tokenizer = self.prep.tokenizer
        asked = recall_messages(self.project, [p.question for p in refs], self.prep.run_cfg.chat,
                                tokenizer.all_special_tokens)
        prompts = [encode_chat(tokenizer, messages) for messages in asked]
        batch = max(1, min(RECALL_BATCH, RECALL_BATCH_TOKENS // max(map(len, prompts), default=1)))
        self.prep.model.eval()
        texts = greedy_texts(self.prep.model, tokenizer, prompts, [new_tokens] * len(prompts), batch_size=batch,
                             synced=self.dist.sharded)
        self.model.train()
        return texts

    def recall_accuracy(self) -> float | None:
        """Share of the recall questions answered with their key facts (``fact_accuracy``); None without
        any, and on data-parallel ranks other than 0, whose answer would only repeat rank 0's (which
        every rank is then given; under FSDP every rank must generate, in step)."""
        refs = self.recall_questions()
        if not refs or not (self.dist.main or self.dist.sharded):
            return None
        texts = self.recall_answers(refs, MAX_RECALL_NEW_TOKENS)
        accuracy, _ = fact_accuracy(texts, [reference(p) for p in refs])
        return accuracy

    def probe_evaluation(self, step: int) -> None:
        """Predict an evaluation's time from part of one, after the first step: the eval loss of one
        row per rank, scaled to all rows, and the first batch of recall questions answered in full,
        scaled to all batches. Each is timed after a short warm-up run (the first no-grad pass and
        the first generation are several times slower)."""
        if not self.clock.eval_steps:
            return
        self.write_status(step, "measuring how long an evaluation takes")
        rows, refs = self.eval_rows[:self.dist.world], self.recall_questions()
        with self.clock.pause():
            loss_s = [timed(self.evaluate, rows) for _ in range(2)][-1] * math.ceil(len(self.eval_rows) / self.dist.world)
            batch_s = [timed(self.recall_answers, refs[:RECALL_BATCH], n) for n in (1, MAX_RECALL_NEW_TOKENS)][-1]
        self.clock.expect_evaluation(loss_s + batch_s * math.ceil(len(refs) / RECALL_BATCH))

    def evaluate(self, rows: list | None = None) -> float:
        """Label-token-weighted mean loss over this rank's share of the held-out rows (``rows``: of
        these), all ranks summed."""
        import torch

        self.model.eval()
        loss_sum, count = 0.0, 0
        with torch.no_grad():
            for row, counted in rank_share(self.eval_rows if rows is None else rows, self.dist):
                n = label_tokens(row)
                batch = {k: v.to(self.prep.device) for k, v in collate_packed(row, self.prep.pad_to).items()}
                loss = next_token_loss(self.prep.model, batch, self.prep.fused_loss)
                if counted:
                    loss_sum, count = loss_sum + loss.item() * n, count + n
        self.model.train()
        loss_sum, count = sum_across([loss_sum, count], self.dist)
        return loss_sum / max(count, 1)

    def save_checkpoint(self, progress: TrainingProgress) -> None:
        """Rank 0 writes the checkpoint; under FSDP every rank first helps gather it whole."""
        if self.dist.main or self.dist.sharded:
            weights, moments = ckpt.lora_weights(self.model), whole_optimizer_state(self.optimizer)
        if self.dist.main:
            ckpt.save_checkpoint(self.run.folder, progress.step, weights, moments, self.scheduler, asdict(progress))
            ckpt.prune_checkpoints(self.run.folder, {progress.step, progress.best_step})
        self.saved_step = progress.step
        barrier(self.dist)

    def finish(self, progress: TrainingProgress, stop: StopSignal) -> dict:
        """Final eval and checkpoint, then the adapter (the best one) and the completion marker."""
        total = self.prep.total_steps
        if progress.step == 0:
            message = "stopped before the first step finished: nothing to save"
            return self.run.write_status("stopped", step=0, total_steps=total, message=message) if self.dist.main else {}
        if self.saved_step != progress.step:
            self.evaluate_and_checkpoint(progress, final=True, stopping=progress.step < total and not progress.early_stopped)
        trained = whole_trainable_state(self.model)
        log(f"rank {self.dist.rank}/{self.dist.world}: trained to step {progress.step}, "
            f"{self.tokens_seen} tokens, LoRA checksum {lora_checksum(trained.values()):.6f}")
        adapter_step = progress.best_step or progress.step
        state = "completed" if progress.step >= total or progress.early_stopped else "stopped"
        self.eta_s = None
        self.write_status(progress.step, "saving the adapter")
        if self.dist.main:
            if adapter_step != progress.step:
                best = ckpt.load_checkpoint(self.run.folder / ckpt.CHECKPOINTS_DIR / ckpt.checkpoint_name(adapter_step))
                trained = ckpt.by_parameter_name(self.prep.model, best.weights)
            save_adapter(self.prep.model, self.prep.tokenizer, self.run, trained)
            self.run.marker_path.write_text(state + "\n")
        barrier(self.dist)
        stop_note = {"message": "early stopping: recall and eval loss stopped improving"} if progress.early_stopped else {}
        status = {"step": progress.step, "total_steps": total, "eval_loss": progress.best_eval_loss,
                  "recall": progress.best_recall, "best_step": progress.best_step, "adapter_step": adapter_step,
                  "elapsed_s": round(time.monotonic() - self.started, 1), **stop_note}
        return self.run.write_status(state, **status) if self.dist.main else {"state": state, **status}


def check_questions(recall_pairs: list, unseen_pairs: list) -> list:
    """The recall check's questions, spread out, of the pairs with key facts to check: at most
    ``MAX_RECALL_QUESTIONS`` recall pairs, then ``MAX_UNSEEN_QUESTIONS`` unseen-passage pairs."""
    checkable = [[p for p in pairs if reference_facts(reference(p))] for pairs in (recall_pairs, unseen_pairs)]
    return spread(checkable[0], MAX_RECALL_QUESTIONS) + spread(checkable[1], MAX_UNSEEN_QUESTIONS)


def better(recall: float | None, eval_loss: float, progress: TrainingProgress) -> bool:
    """Whether this evaluation beats the best so far: higher recall, else (a tie, or no recall
    check) lower eval loss."""
    if progress.best_eval_loss is None:
        return True
    if recall is not None and progress.best_recall is not None and recall != progress.best_recall:
        return recall > progress.best_recall
    return eval_loss < progress.best_eval_loss


def save_adapter(model, tokenizer, run: Run, weights: dict) -> Path:
    """Save the LoRA adapter (safetensors) with ``weights`` (whole tensors by parameter name) and
    the tokenizer; a folder rename makes it atomic."""
    import shutil

    tmp = run.folder / ".adapter.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True, state_dict=weights)
    tokenizer.save_pretrained(tmp)
    return replace_dir(tmp, run.adapter_dir)


def timed(fn, *args) -> float:
    """Seconds ``fn(*args)`` took."""
    started = time.monotonic()
    fn(*args)
    return time.monotonic() - started


def lora_checksum(tensors) -> float:
    """Sum of absolute LoRA weights: equal on all data-parallel ranks when they stay in sync."""
    return float(sum(t.abs().sum().item() for t in tensors))


def rank_share(rows: list, dist: Dist) -> list[tuple[list, bool]]:
    """This rank's rows of ``rows``, each with whether it counts. Under FSDP every forward is a
    collective, so each rank gets as many rows: the short ones repeat a row that does not count."""
    share = [(row, True) for row in rows[dist.rank::dist.world]]
    if dist.sharded and rows:
        share += [(rows[0], False)] * (math.ceil(len(rows) / dist.world) - len(share))
    return share


def peak_memory_bytes(device: str) -> int:
    """Peak GPU memory allocated, or this process's peak resident memory on CPU."""
    import resource

    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated(device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def recall_messages(project: Project, questions: list[str], chat_cfg: ChatConfig,
                    special_tokens: list[str]) -> list[list[dict]]:
    """Each question as chat sends it: the system prompt and the question, quoting the passages
    search finds for it when ``chat_cfg.grounded`` ("Answer from the documents") is on, so the
    kept checkpoint is the one that answers best the way users will ask. The question is written
    as training writes it (``dataset.pair_messages``)."""
    return [grounded_prompt(project, pair_messages(question, "", chat_cfg.system_prompt, special_tokens)[:-1],
                            chat_cfg, special_tokens).messages
            for question in questions]
