"""SiLU-gated MLPs for CPU training: the same loss and gradients, one activation fewer kept per layer.

    .venv/bin/python -m pytest tests/test_swiglu.py -q
"""

import torch

from builder.train.swiglu import fuse_swiglu


def lora_model(tiny_model_dir, fused: bool):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.config.use_cache = False
    layers = fuse_swiglu(model) if fused else 0
    torch.manual_seed(0)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    return get_peft_model(model, lora), layers


def packed_batch() -> dict:
    from builder.conversation import Example
    from builder.train.data import collate_packed

    return collate_packed([Example(list(range(5, 17)), [-100] * 6 + list(range(11, 17))),
                           Example(list(range(20, 29)), [-100] * 4 + list(range(24, 29)))])


def saved_bytes(model, batch: dict) -> tuple[float, int]:
    """The loss, and the bytes of the distinct tensors autograd keeps for the backward pass."""
    from builder.train.recipe import next_token_loss

    kept = {}

    def pack(tensor):
        kept[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = next_token_loss(model, batch)
    loss.backward()
    return loss.item(), sum(kept.values())


def test_fused_mlps_train_alike_and_keep_one_activation_fewer(tiny_model_dir):
    plain, _ = lora_model(tiny_model_dir, fused=False)
    fused, layers = lora_model(tiny_model_dir, fused=True)
    config = fused.config
    assert layers == config.num_hidden_layers > 0
    batch = packed_batch()
    plain_loss, plain_bytes = saved_bytes(plain, batch)
    fused_loss, fused_bytes = saved_bytes(fused, batch)
    assert abs(plain_loss - fused_loss) < 1e-5
    for (name, p), (_, q) in zip(plain.named_parameters(), fused.named_parameters()):
        if p.requires_grad:
            torch.testing.assert_close(q.grad, p.grad, msg=lambda m, name=name: f"{name}: {m}")
    tokens = batch["input_ids"].shape[1]
    assert plain_bytes - fused_bytes == layers * tokens * config.intermediate_size * 4  # one fp32 activation a layer


def test_an_mlp_without_a_silu_is_left_alone():
    from transformers import Gemma2Config, Gemma2ForCausalLM

    config = Gemma2Config(vocab_size=32, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=2, num_key_value_heads=1, head_dim=16)
    assert fuse_swiglu(Gemma2ForCausalLM(config)) == 0  # GELU-gated
