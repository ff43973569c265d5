"""Where the ``templates/`` data folder lives, and loading what it holds (never executed).

    templates_dir()                    # $DAB_TEMPLATES_DIR, else templates/ beside the package
    template = load_template("qa")     # templates/generation/qa.yaml: a teacher prompt
    domain = load_domain("legal")      # templates/domains/legal.yaml: a domain preset
    sample_documents()                 # templates/samples/: the sample corpus
    sample_heldout()                   # its held-out question/answer rows, for evaluation
    reference_text()                   # templates/reference/general.txt: ordinary prose

Prompt templates and domain presets are validated against a small schema when loaded (required
keys, types, known ``$placeholders``, ``$passage`` present), so a broken file fails with one
clear line instead of producing silent garbage. This module sits at the bottom of the library:
it imports nothing above ``errors`` and ``storage``.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from string import Template

import yaml

from .errors import ConfigError
from .storage import read_jsonl

PLACEHOLDERS = {"passage", "heading", "max_pairs", "question_styles", "answer_style", "domain_system", "domain"}
SAMPLE_SKIP = {"README.md", "heldout.jsonl", "unanswerable.jsonl"}


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    description: str
    system: str
    user: str
    response_prefix: str = ""


@dataclass(frozen=True)
class DomainPreset:
    name: str
    description: str
    system_prompt: str
    question_styles: tuple[str, ...]
    answer_style: str


def templates_dir() -> Path:
    """The ``templates/`` folder: ``$DAB_TEMPLATES_DIR`` or the one beside the package."""
    env = os.environ.get("DAB_TEMPLATES_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "templates"


def sample_documents() -> list[Path]:
    """The sample corpus files (documents only, not its README or held-out questions)."""
    folder = templates_dir() / "samples"
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name not in SAMPLE_SKIP)


def sample_heldout() -> list[dict]:
    """Held-out question/answer rows about the sample corpus, for evaluation."""
    return read_jsonl(templates_dir() / "samples" / "heldout.jsonl")


def sample_unanswerable() -> list[dict]:
    """Questions in the sample's domain that its documents do not answer (``{"question"}`` rows)."""
    return read_jsonl(templates_dir() / "samples" / "unanswerable.jsonl")


def reference_text() -> str:
    """Ordinary prose (``templates/reference/general.txt``) to compare a domain's text with."""
    return (templates_dir() / "reference" / "general.txt").read_text(encoding="utf-8")


def read_yaml(path: Path, kind: str) -> dict:
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ConfigError(f"no {kind} '{path.stem}' (known: {', '.join(known) or 'none'})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{kind} {path.name} is not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{kind} {path.name} must be a mapping")
    return data


def check_fields(data: dict, required: dict[str, type], optional: dict[str, type], label: str) -> None:
    """Required keys present, no unknown keys, every value of the declared type and non-empty."""
    missing = sorted(set(required) - set(data))
    unknown = sorted(set(data) - set(required) - set(optional))
    if missing or unknown:
        raise ConfigError(f"{label}: missing {missing or 'nothing'}, unknown {unknown or 'nothing'}")
    for key, value in data.items():
        kind = {**required, **optional}[key]
        if not isinstance(value, kind) or (key in required and not value):
            raise ConfigError(f"{label}: '{key}' must be a non-empty {kind.__name__}")


def parse_template(data: dict, label: str) -> PromptTemplate:
    """Validate a generation template mapping and build it."""
    check_fields(data, {"name": str, "description": str, "system": str, "user": str},
                 {"response_prefix": str}, label)
    for part in ("system", "user"):
        template = Template(data[part])
        if not template.is_valid():
            raise ConfigError(f"{label}: '{part}' has a malformed $placeholder")
        unknown = set(template.get_identifiers()) - PLACEHOLDERS
        if unknown:
            raise ConfigError(f"{label}: unknown placeholder(s) {sorted(unknown)} in '{part}'")
    if "passage" not in Template(data["user"]).get_identifiers():
        raise ConfigError(f"{label}: 'user' must contain $passage")
    return PromptTemplate(**data)


def parse_domain(data: dict, label: str) -> DomainPreset:
    """Validate a domain preset mapping and build it."""
    check_fields(data, {"name": str, "description": str, "system_prompt": str, "question_styles": list,
                        "answer_style": str}, {}, label)
    if not all(isinstance(s, str) and s.strip() for s in data["question_styles"]):
        raise ConfigError(f"{label}: 'question_styles' must be a list of non-empty strings")
    return DomainPreset(**{**data, "question_styles": tuple(data["question_styles"])})


def load_template(name: str) -> PromptTemplate:
    path = templates_dir() / "generation" / f"{name}.yaml"
    return parse_template(read_yaml(path, "generation template"), f"template {path.name}")


def load_domain(name: str) -> DomainPreset:
    path = templates_dir() / "domains" / f"{name}.yaml"
    return parse_domain(read_yaml(path, "domain preset"), f"domain {path.name}")


def list_domains() -> list[str]:
    return sorted(p.stem for p in (templates_dir() / "domains").glob("*.yaml"))
