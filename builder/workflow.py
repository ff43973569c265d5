"""Multi-step operations shared by the CLI and the UI (each one a few builder calls).

    project = create_sample_project(Path("projects/sample"))   # sample documents, ingested
    chunk_sources(project)                                     # token-aware chunks
"""

from pathlib import Path

from .chunking import chunk_project
from .dataset import split_pairs
from .ingest import ingest_paths
from .models import load_tokenizer
from .pairs import training_pairs
from .project import Project
from .runs import newest_trained_run
from .templates import sample_documents, sample_heldout


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
    """Questions the tuned model never trained on, as {question, answer} rows: the sample's own
    set, else the eval split."""
    cfg = project.load_config()
    if cfg.name == "sample":
        return sample_heldout()
    held = split_pairs(training_pairs(project.pairs()), cfg.pairs.eval_fraction, cfg.pairs.seed)[1]
    return [{"question": pair.question, "answer": pair.answer} for pair in held]


WIZARD_STEPS = ("documents", "pairs", "train", "evaluate", "share")


def list_projects(folder: Path) -> list[str]:
    """Names of the project folders (those holding a ``project.yaml``) directly inside ``folder``."""
    if not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if (p / "project.yaml").is_file())


def project_progress(project: Project) -> dict[str, bool]:
    """Which wizard steps are done, read from the project folder (drives the progress bar)."""
    run = newest_trained_run(project)
    return {"documents": bool(project.chunks()),
            "pairs": bool(training_pairs(project.pairs())),
            "train": run is not None,
            "evaluate": run is not None and run.eval_path.is_file(),
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
