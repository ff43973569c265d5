"""Multi-step operations shared by the CLI and the UI (each one a few builder calls).

    project = create_sample_project(Path("projects/sample"))   # sample documents, ingested
    chunk_sources(project)                                     # token-aware chunks
"""

import os
from pathlib import Path

from .chunking import chunk_project
from .dataset import split_pairs
from .ingest import ingest_paths
from .models import load_tokenizer
from .pairs import training_pairs
from .project import Project
from .storage import read_jsonl

SAMPLE_SKIP = {"README.md", "heldout.jsonl", "unanswerable.jsonl"}


def templates_dir() -> Path:
    """The ``templates/`` folder: ``$DAB_TEMPLATES_DIR`` or the one beside the package."""
    env = os.environ.get("DAB_TEMPLATES_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "templates"


def sample_documents() -> list[Path]:
    """The sample corpus files (documents only, not its README or its question sets)."""
    folder = templates_dir() / "samples"
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name not in SAMPLE_SKIP)


def sample_heldout() -> list[dict]:
    """Held-out question/answer pairs about the sample corpus, for evaluation."""
    return read_jsonl(templates_dir() / "samples" / "heldout.jsonl")


def chunk_sources(project: Project) -> list[dict]:
    """Chunk all ingested text with the tokenizer of the project's base model."""
    cfg = project.load_config()
    return chunk_project(project, load_tokenizer(cfg.train.base_model), cfg.chunk)


def ingest_and_chunk(project: Project, paths: list[Path]) -> tuple[list[dict], list[dict]]:
    """Ingest documents, then re-chunk the project; returns (per-file reports, chunks)."""
    reports = ingest_paths(project, paths)
    return reports, chunk_sources(project)


def new_project(root: Path, name: str | None = None, preset: str = "balanced") -> Project:
    """Create (or open) a project for a person using the wizard or `dab`: a new one trains with a
    hardware-aware preset instead of fixed hyperparameters. An existing project is left as it is."""
    is_new = not (Path(root) / "project.yaml").exists()
    project = Project.create(root, name)
    if is_new:
        cfg = project.load_config()
        cfg.train.preset = preset
        project.save_config(cfg)
    return project


def create_sample_project(root: Path, base_model: str | None = None) -> Project:
    """A project preloaded with the sample corpus (ingested and chunked), created once; it trains
    with the Quick preset so that a first run on a laptop CPU takes minutes."""
    project = new_project(root, name="sample", preset="quick")
    if base_model:
        cfg = project.load_config()
        cfg.train.base_model = base_model
        project.save_config(cfg)
    if not project.chunks():
        ingest_and_chunk(project, sample_documents())
    return project


def heldout_pairs(project: Project) -> list[dict]:
    """Questions the tuned model never trained on: the sample's own set, else the eval split."""
    cfg = project.load_config()
    if cfg.name == "sample":
        return sample_heldout()
    return split_pairs(training_pairs(project.pairs()), cfg.pairs.eval_fraction, cfg.pairs.seed)[1]


def latest_adapter(project: Project) -> Path | None:
    """The adapter of the newest completed run, if any."""
    for run in project.completed_runs():
        if (run / "adapter" / "adapter_config.json").exists():
            return run / "adapter"
    return None


WIZARD_STEPS = ("documents", "pairs", "train", "evaluate", "share")


def list_projects(folder: Path) -> list[str]:
    """Names of the project folders (those holding a ``project.yaml``) directly inside ``folder``."""
    if not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if (p / "project.yaml").is_file())


def latest_run(project: Project) -> Path | None:
    """The newest run folder that has a status file, finished or not."""
    runs = [p.parent for p in project.runs_dir.glob("*/status.json")] if project.runs_dir.exists() else []
    return max(runs, key=lambda run: run.name, default=None)


def project_progress(project: Project) -> dict[str, bool]:
    """Which wizard steps are done, read from the project folder (drives the progress bar)."""
    adapter = latest_adapter(project)
    return {"documents": bool(project.chunks()),
            "pairs": bool(training_pairs(project.pairs())),
            "train": adapter is not None,
            "evaluate": adapter is not None and (adapter.parent / "eval.json").exists(),
            "share": (project.root / "share.json").exists()}



RECOMMENDED_MODELS = (  # (minimum memory in GiB, Hub id): instruct models that fine-tune well with LoRA
    (0, "HuggingFaceTB/SmolLM2-360M-Instruct"), (0, "Qwen/Qwen2.5-0.5B-Instruct"),
    (8, "Qwen/Qwen2.5-1.5B-Instruct"), (8, "meta-llama/Llama-3.2-1B-Instruct"),
    (16, "Qwen/Qwen2.5-3B-Instruct"), (24, "Qwen/Qwen2.5-7B-Instruct"), (24, "meta-llama/Llama-3.1-8B-Instruct"),
)


def recommended_models(hardware) -> list[str]:
    """Hub models worth trying on ``hardware`` (a ``presets.Hardware``): small ones on a CPU."""
    if hardware.device != "cuda":
        return [model for need_gib, model in RECOMMENDED_MODELS if need_gib == 0]
    memory_gib = hardware.memory_bytes / 1024**3
    return [model for need_gib, model in RECOMMENDED_MODELS if need_gib <= memory_gib]


def training_plan(project: Project, cfg=None):
    """The next run's plan (preset resolved, memory estimate, warnings) without loading weights."""
    from .chat import chat_settings
    from .dataset import to_messages
    from .models import resolve_model
    from .train.data import conversation_lengths
    from .train.presets import detect_hardware, model_shape, plan_training

    cfg = cfg or project.load_config()
    tc = cfg.train
    train, _ = split_pairs(training_pairs(project.pairs()), cfg.pairs.eval_fraction, cfg.pairs.seed)
    tokenizer = load_tokenizer(tc.base_model, tc.trust_remote_code)
    system_prompt = chat_settings(cfg).system_prompt  # as training resolves it
    lengths = conversation_lengths(tokenizer, [to_messages(p, system_prompt) for p in train])
    shape = model_shape(resolve_model(tc.base_model), tc.trust_remote_code)
    return plan_training(tc, detect_hardware(), shape, lengths)
