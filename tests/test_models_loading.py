"""Model resolution and loading refusals: offline misses and custom-code models.

    .venv/bin/python -m pytest tests/test_models_loading.py -q
"""

import json
import shutil

import pytest

from builder.errors import ModelNotFound
from builder.models import load_model, load_tokenizer
from builder.train.presets import model_shape


def test_model_id_missing_offline_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound, match="not in the local cache and HF_HUB_OFFLINE is set"):
        load_tokenizer("no-such-org/no-such-model-xyz")


def test_model_needing_remote_code_is_refused_unless_opted_in(tiny_model_dir, tmp_path):
    folder = shutil.copytree(tiny_model_dir, tmp_path / "custom")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_custom.CustomForCausalLM"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelNotFound, match="needs custom code"):
        load_model(str(folder))
    with pytest.raises(ModelNotFound, match="trust_remote_code"):
        load_tokenizer(str(folder))
    assert load_tokenizer(str(folder), trust_remote_code=True).chat_template, "opting in loads it"


def test_tiny_model_shape_counts_parameters_without_loading_weights(tiny_model_dir):
    shape = model_shape(str(tiny_model_dir))
    assert (shape.layers, shape.hidden, shape.intermediate) == (2, 64, 128)
    assert shape.tied_embeddings and shape.params > shape.vocab * shape.hidden


@pytest.mark.parametrize("value, offline", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)])
def test_hf_hub_offline_is_read_one_way_everywhere(monkeypatch, value, offline):
    from builder.models import _hub_kwargs, hub_offline, not_found_message

    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert hub_offline() is offline and _hub_kwargs(False)["local_files_only"] is offline
    assert ("HF_HUB_OFFLINE is set" in not_found_message("org/model", OSError("not found"))) is offline
