"""Prompt templates and domain presets for teacher models, loaded from ``templates/`` as data.

    template = load_template("qa")             # templates/generation/qa.yaml
    domain = load_domain("legal")              # templates/domains/legal.yaml
    messages = render_messages(chunk, cfg)     # system + user chat messages for one chunk

Both kinds of file are validated against a small schema when loaded (required keys, types,
known ``$placeholders``, ``$passage`` present), so a broken template fails with one clear line
instead of producing silent garbage. The passage is inserted after its control tokens were made
inert, inside ``<passage>`` tags that the prompt declares to be data.
"""

from dataclasses import dataclass
from pathlib import Path
from string import Template

import yaml

from ..config import PairsConfig
from ..errors import ConfigError
from .validate import neutralize_control_tokens

PLACEHOLDERS = {"passage", "heading", "max_pairs", "question_styles", "answer_style", "domain_system", "domain"}


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


def templates_root() -> Path:
    from ..workflow import templates_dir  # late import: workflow imports this package

    return templates_dir()


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
    path = templates_root() / "generation" / f"{name}.yaml"
    return parse_template(read_yaml(path, "generation template"), f"template {path.name}")


def load_domain(name: str) -> DomainPreset:
    path = templates_root() / "domains" / f"{name}.yaml"
    return parse_domain(read_yaml(path, "domain preset"), f"domain {path.name}")


def list_domains() -> list[str]:
    return sorted(p.stem for p in (templates_root() / "domains").glob("*.yaml"))


def render_messages(chunk: dict, cfg: PairsConfig) -> list[dict]:
    """The chat messages that ask a teacher for pairs about one chunk."""
    template, domain = load_template(cfg.template), load_domain(cfg.domain)
    values = {"passage": neutralize_control_tokens(chunk["text"]),
              "heading": " › ".join(chunk.get("heading_path") or []) or "the documents",
              "max_pairs": str(cfg.max_pairs_per_chunk),
              "question_styles": "; ".join(domain.question_styles), "answer_style": domain.answer_style,
              "domain_system": domain.system_prompt, "domain": domain.name}
    return [{"role": "system", "content": Template(template.system).substitute(values).strip()},
            {"role": "user", "content": Template(template.user).substitute(values).strip()}]
