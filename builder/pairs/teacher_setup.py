"""Set up a teacher from what a user typed (wizard or ``dab pairs``), and check it works.

    pairs_cfg = with_teacher(pairs_cfg, generator="openai", base_url="http://127.0.0.1:11434/v1",
                             api_model="llama3.1:8b", api_key_env="OPENAI_API_KEY")   # validated
    print(check_teacher(pairs_cfg))      # endpoint: its models; local: where the model is; or GeneratorError

A local teacher is any chat model: a Hub id, a local folder, or the bundled model, which is
there to try the flow and is too small to write good pairs (``BUNDLED_NOTE``). An endpoint
teacher is a base URL, a model name and the *name* of the environment variable that holds the
key (``endpoint``): the key itself never reaches the project folder.
"""

from dataclasses import replace

from ..config import BUNDLED_MODEL, PairsConfig
from ..errors import ConfigError
from .endpoint import check_endpoint

BUNDLED_NOTE = "for trying the flow; too small to write good pairs"
TEACHER_FIELDS = ("generator", "teacher_model", "base_url", "api_model", "api_key_env")


def with_teacher(pairs_cfg: PairsConfig, **values: str | None) -> PairsConfig:
    """``pairs_cfg`` with the teacher fields given (None = keep), stripped and validated."""
    unknown = set(values) - set(TEACHER_FIELDS)
    if unknown:
        raise ConfigError(f"not a teacher setting: {', '.join(sorted(unknown))}")
    given = {key: str(value).strip() for key, value in values.items() if value is not None}
    if given.get("teacher_model") == "bundled":
        given["teacher_model"] = BUNDLED_MODEL
    if "teacher_model" in given and not given["teacher_model"]:
        raise ConfigError("name the teacher model: a Hub id, a local folder, or 'bundled'")
    given["base_url"] = given.get("base_url", pairs_cfg.base_url).rstrip("/")
    return replace(pairs_cfg, **given)


def is_bundled(spec: str) -> bool:
    return spec in {BUNDLED_MODEL, "bundled"}


def check_teacher(pairs_cfg: PairsConfig) -> str:
    """What the configured teacher answers to a check, in words; raises a BuilderError saying what failed."""
    if pairs_cfg.generator == "openai":
        return check_endpoint(pairs_cfg).message
    if pairs_cfg.generator == "local":
        return check_local_teacher(pairs_cfg.teacher_model)
    return f"The '{pairs_cfg.generator}' generator needs no teacher model."


def check_local_teacher(spec: str) -> str:
    """Find the model and load its tokenizer (quick; the weights load when generation starts)."""
    from ..models import load_tokenizer, resolve_model

    load_tokenizer(spec)
    if is_bundled(spec):
        return f"The bundled model is ready: {BUNDLED_NOTE}."
    return f"Teacher model '{spec}' found ({resolve_model(spec)})."
