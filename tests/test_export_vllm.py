"""The exported adapter loads the way vLLM's OpenAI server loads a LoRA module (``--enable-lora
--lora-modules name=DIR``): a peft ``adapter_config.json`` naming the base model, the weights in
``adapter_model.safetensors`` under peft's tensor names, plain LoRA (no DoRA, no bias, no extra
trained modules), and peft loading the folder gives the run's answers.

    .venv/bin/python -m pytest tests/test_export_vllm.py -q
"""

import json
import re

from builder.chat import ChatEngine, answer
from builder.config import ChatConfig
from builder.export import export_adapter
from builder.project import Project

from .support import make_run

GREEDY = ChatConfig(max_new_tokens=10)
VLLM_LLAMA_LORA_MODULES = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
# vLLM's parse_fine_tuned_lora_name accepts these names (vllm/lora/utils.py)
LORA_TENSOR = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<part>[AB])\.weight$")


def test_exported_adapter_has_the_layout_vllm_loads(tiny_model_dir, tiny_adapter, tiny_engine, tmp_path):
    import torch
    from peft import LoraConfig, PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    project = Project.create(tmp_path / "project")
    cfg = project.load_config()
    cfg.train.base_model = str(tiny_model_dir)
    project.save_config(cfg)
    out = export_adapter(make_run(project, tiny_adapter), tmp_path / "adapter", project.load_config())

    config = json.loads((out / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["base_model_name_or_path"] == str(tiny_model_dir)
    assert config["r"] > 0 and config["lora_alpha"] > 0 and config["target_modules"]
    assert not config.get("use_dora") and config.get("bias", "none") == "none" and not config.get("modules_to_save")
    assert LoraConfig.from_pretrained(str(out)).r == config["r"]
    assert not list(out.glob("*.bin")), "vLLM would read a pickled .bin before checking the safetensors"
    tensors = load_file(str(out / "adapter_model.safetensors"))
    names = [LORA_TENSOR.match(name) for name in tensors]
    assert tensors and all(names), [n for n, m in zip(tensors, names) if not m]
    modules = {m["module"] for m in names}
    assert {m["part"] for m in names} == {"A", "B"} and all(f"{m}.lora_A.weight" in "|".join(tensors) for m in modules)
    targets = config["target_modules"]
    assert all(any(m == t or m.endswith("." + t) for t in targets) for m in modules)  # peft's suffix match
    assert {m.rsplit(".", 1)[-1] for m in modules} <= VLLM_LLAMA_LORA_MODULES

    base = AutoModelForCausalLM.from_pretrained(config["base_model_name_or_path"])
    peft_model = PeftModel.from_pretrained(base, str(out)).eval()
    ids = torch.tensor([tiny_engine.tokenizer("where is the depot ?")["input_ids"]])
    with torch.no_grad():
        exported_logits = peft_model(input_ids=ids).logits
    with torch.no_grad():
        engine_logits = tiny_engine.model(input_ids=ids).logits
    assert torch.allclose(exported_logits, engine_logits, atol=1e-5)
    reloaded = ChatEngine.load(str(tiny_model_dir), out)
    assert answer(reloaded, "where is the depot ?", GREEDY) == answer(tiny_engine, "where is the depot ?", GREEDY)
