"""A training run: one folder under a project's ``runs/``, and everything that reads one.

    run = newest_trained_run(project)          # newest finished run with an adapter, or None
    run = trained_run(project, adapter_dir)    # that adapter's run, else the newest trained one (AdapterError if none)
    run.status()["state"]                      # starting / loading / running / completed / stopped / failed
    run.metrics(), run.data_record(), run.eval_report(), run.resumable()
    run.base_model(project_cfg)                # the base model its adapter was trained on
    chat_settings(project_cfg, run)            # the project's sampling, the system prompt the run trained with
    engine = load_engine(run, project_cfg)     # that base model with the run's adapter

Everything that loads a tuned model (chat, evaluation, serving, export, the wizard, the demo)
goes through ``load_engine``, so it takes the base model from the run that trained the adapter,
whatever the project's config says now. A run folder holds::

    config.yaml        the resolved config it trained with (preset applied, system prompt resolved)
    data.json          the data record: fingerprint, pair counts, plan, hardware, warnings
    heldout.jsonl      the pairs held out of training (role "recall" or "unseen"), evaluation's questions
    status.json        the state the UI and the CLI follow
    metrics.jsonl      one line per logged step and per evaluation
    pid, train.log     the training process and its output
    STOP               asks a running training to stop after its current micro-batch
    checkpoints/       see ``train.checkpoint``
    adapter/           the LoRA adapter (safetensors)
    eval.json, eval.md the held-out evaluation (``evaluate``)
    COMPLETE           written last, "completed" or "stopped": the run is finished

An adapter made elsewhere (``dab chat --adapter DIR``) is a run whose folder is the adapter's
parent; without a ``config.yaml`` there, the project's config stands in for the run's.
"""

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from .chat import ChatEngine
from .config import ChatConfig, ProjectConfig
from .errors import AdapterError, BuilderError
from .processes import process_alive
from .project import Project
from .records import Pair
from .splits import Splits
from .storage import read_json, read_jsonl, write_json, write_jsonl
from .templates import load_domain

log = logging.getLogger(__name__)

RUN_COMPLETE_MARKER = "COMPLETE"
STOP_FILE = "STOP"
ACTIVE_STATES = {"starting", "loading", "running"}


@dataclass(frozen=True)
class Run:
    """A handle on a run folder; cheap to create, reads files on demand."""

    folder: Path
    adapter_dir: Path | None = None  # folder/adapter unless given

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder))
        object.__setattr__(self, "adapter_dir", Path(self.adapter_dir or self.folder / "adapter"))

    @classmethod
    def of_adapter(cls, adapter_dir: Path) -> "Run":
        """The run an adapter folder belongs to (its parent folder)."""
        return cls(Path(adapter_dir).parent, Path(adapter_dir))

    # --- files ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def config_path(self) -> Path:
        return self.folder / "config.yaml"

    @property
    def data_path(self) -> Path:
        return self.folder / "data.json"

    @property
    def status_path(self) -> Path:
        return self.folder / "status.json"

    @property
    def metrics_path(self) -> Path:
        return self.folder / "metrics.jsonl"

    @property
    def eval_path(self) -> Path:
        return self.folder / "eval.json"

    @property
    def heldout_path(self) -> Path:
        return self.folder / "heldout.jsonl"

    @property
    def pid_path(self) -> Path:
        return self.folder / "pid"

    @property
    def log_path(self) -> Path:
        return self.folder / "train.log"

    @property
    def stop_path(self) -> Path:
        return self.folder / STOP_FILE

    @property
    def marker_path(self) -> Path:
        return self.folder / RUN_COMPLETE_MARKER

    # --- what the run says ----------------------------------------------------------------
    def config(self) -> ProjectConfig | None:
        """The resolved config the run trains with; None before training wrote it."""
        return ProjectConfig.load(self.config_path) if self.config_path.is_file() else None

    def resolved_config(self, project_cfg: ProjectConfig) -> ProjectConfig:
        """The run's config, or the project's for an adapter that came without one."""
        return self.config() or project_cfg

    def base_model(self, project_cfg: ProjectConfig) -> str:
        return self.resolved_config(project_cfg).train.base_model

    def outcome(self) -> str | None:
        """How the run finished ("completed" or "stopped"), or None while it is unfinished."""
        return self.marker_path.read_text().strip() if self.marker_path.is_file() else None

    def has_adapter(self) -> bool:
        return (self.adapter_dir / "adapter_config.json").is_file()

    def status(self) -> dict:
        """``status.json``; an active state whose process is gone reads as failed (resumable)."""
        status = read_json(self.status_path, default={"state": "unknown"})
        pid = self.training_pid(status)
        if status.get("state") in ACTIVE_STATES and pid is not None and not process_alive(pid):
            status = {**status, "state": "failed", "resumable": True,
                      "message": "the training process ended unexpectedly (see train.log); resume it to continue"}
        return status

    def training_pid(self, status: dict) -> int | None:
        """The training process: the one the status names, else the one the runner started."""
        if status.get("pid") is None and self.pid_path.is_file():
            return int(self.pid_path.read_text().strip() or 0)
        return status.get("pid")

    def write_status(self, state: str, **fields) -> dict:
        """Write ``status.json`` (loading/running/completed/...); returns what was written."""
        status = {"state": state, "updated": time.time(), **fields}
        write_json(self.status_path, status)
        return status

    def active(self) -> bool:
        return self.status().get("state") in ACTIVE_STATES

    def resumable(self) -> bool:
        """Started (has its config), not completed and not running: crashed, killed or stopped."""
        return self.config_path.is_file() and self.outcome() != "completed" and not self.active()

    def request_stop(self) -> None:
        """Ask a running training to stop after its current micro-batch (it saves what it finished)."""
        self.stop_path.write_text("stop requested\n")

    def metrics(self) -> list[dict]:
        return read_jsonl(self.metrics_path)

    def data_record(self) -> dict:
        return read_json(self.data_path, default={}) or {}

    def eval_report(self) -> dict | None:
        return read_json(self.eval_path)

    def save_heldout(self, splits: Splits) -> None:
        """Record the pairs this run does not train on, so its evaluation asks exactly those."""
        write_jsonl(self.heldout_path, [{"role": role, **pair.to_dict()} for role in ("recall", "unseen")
                                        for pair in getattr(splits, role)])

    def heldout(self) -> dict[str, list[Pair]]:
        """``{"recall": [...], "unseen": [...]}``: the held-out pairs recorded at training time."""
        sets: dict[str, list[Pair]] = {"recall": [], "unseen": []}
        for row in read_jsonl(self.heldout_path):
            sets[row.pop("role")].append(Pair.from_dict(row))
        return sets


# --- lookups in a project -------------------------------------------------------------------
def project_runs(project: Project) -> list[Run]:
    """Every run folder of the project, newest first (run names are timestamps)."""
    if not project.runs_dir.is_dir():
        return []
    return [Run(p) for p in sorted(project.runs_dir.iterdir(), key=lambda p: p.name, reverse=True) if p.is_dir()]


def newest_run(project: Project) -> Run | None:
    """The newest run that has a status, finished or not."""
    return next((run for run in project_runs(project) if run.status_path.is_file()), None)


def finished_runs(project: Project) -> list[Run]:
    """Runs whose completion marker exists, newest first."""
    return [run for run in project_runs(project) if run.marker_path.is_file()]


def newest_trained_run(project: Project) -> Run | None:
    """The newest finished run with an adapter."""
    return next((run for run in finished_runs(project) if run.has_adapter()), None)


def newest_resumable_run(project: Project) -> Run | None:
    return next((run for run in project_runs(project) if run.resumable()), None)


def trained_run(project: Project, adapter_dir: Path | None = None) -> Run:
    """The run of the adapter given, else the newest trained run; AdapterError when there is none."""
    run = Run.of_adapter(adapter_dir) if adapter_dir else newest_trained_run(project)
    if run is None:
        raise AdapterError("no trained adapter yet: run `dab train` first")
    return run


# --- using a run's model --------------------------------------------------------------------
def chat_settings(project_cfg: ProjectConfig, run: Run | None = None) -> ChatConfig:
    """The project's chat settings, with the system prompt the run trained with (its
    ``config.yaml``), else the domain preset's when the project keeps the default prompt."""
    chat = dataclasses.replace(project_cfg.chat)
    try:
        trained = run.config() if run is not None else None
        if trained is not None:
            chat.system_prompt = trained.chat.system_prompt
        elif chat.system_prompt == ChatConfig().system_prompt:
            chat.system_prompt = load_domain(project_cfg.pairs.domain).system_prompt
    except BuilderError as exc:  # an unreadable run config or preset: keep the project's prompt, say so
        log.warning("using the project's system prompt: %s", exc)
    return chat


def load_engine(run: Run | None, project_cfg: ProjectConfig, quantize: str = "none", merge: bool = False) -> ChatEngine:
    """The run's base model with its adapter (``merge``: folded in); no run: the project's base model."""
    if run is None:
        return ChatEngine.load(project_cfg.train.base_model, quantize=quantize)
    return ChatEngine.load(run.base_model(project_cfg), run.adapter_dir, quantize=quantize, merge=merge)
