"""Leaner layers for CPU training (SiLU-gated MLPs, RMSNorms): the same loss and gradients,
fewer activations kept for the backward pass.

    .venv/bin/python -m pytest tests/test_lean_layers.py -q
"""

import pytest
import torch

from builder.train.rmsnorm import fuse_rmsnorm
from builder.train.swiglu import fuse_swiglu


def lora_model(tiny_model_dir, fuse=None):
    """The tiny model with LoRA on every linear layer, after ``fuse`` (returns how many modules it changed)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.config.use_cache = False
    layers = fuse(model) if fuse else 0
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


def trained_alike(tiny_model_dir, fuse) -> tuple[int, int, dict]:
    """Modules ``fuse`` changed and bytes kept for backward less than without it (same loss and
    LoRA gradients, checked), and the model's config."""
    plain, _ = lora_model(tiny_model_dir)
    fused, changed = lora_model(tiny_model_dir, fuse)
    batch = packed_batch()
    plain_loss, plain_bytes = saved_bytes(plain, batch)
    fused_loss, fused_bytes = saved_bytes(fused, batch)
    assert abs(plain_loss - fused_loss) < 1e-5
    for (name, p), (_, q) in zip(plain.named_parameters(), fused.named_parameters()):
        if p.requires_grad:
            torch.testing.assert_close(q.grad, p.grad, msg=lambda m, name=name: f"{name}: {m}")
    return changed, plain_bytes - fused_bytes, fused.config


def test_fused_mlps_train_alike_and_keep_one_activation_fewer(tiny_model_dir):
    layers, saved, config = trained_alike(tiny_model_dir, fuse_swiglu)
    assert layers == config.num_hidden_layers > 0
    tokens = packed_batch()["input_ids"].shape[1]
    assert saved == layers * tokens * config.intermediate_size * 4  # one fp32 activation a layer


def test_norms_train_alike_and_keep_their_lora_input_instead_of_their_own(tiny_model_dir):
    norms, saved, config = trained_alike(tiny_model_dir, fuse_rmsnorm)
    assert norms == 2 * config.num_hidden_layers + 1  # before attention, before the MLP, and the last one
    tokens = packed_batch()["input_ids"].shape[1]
    # each norm's input was kept, but the first's (frozen embeddings need no gradient); the last
    # norm keeps its output instead (it feeds no LoRA): one fp32 [tokens x hidden] tensor less per other norm
    assert saved == (2 * config.num_hidden_layers - 1) * tokens * config.hidden_size * 4


@pytest.mark.parametrize("zero_weight", [False, True])
def test_norms_of_another_formula_or_with_a_zero_weight_are_left_alone(tiny_model_dir, zero_weight):
    from transformers import Gemma2Config, Gemma2ForCausalLM

    if zero_weight:
        model, _ = lora_model(tiny_model_dir)
        model = model.get_base_model()
        with torch.no_grad():
            for layer in model.model.layers:
                layer.input_layernorm.weight[0] = 0.0
        assert fuse_rmsnorm(model) == model.config.num_hidden_layers + 1  # the MLPs' norms and the last one
    else:
        config = Gemma2Config(vocab_size=32, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16)
        model = Gemma2ForCausalLM(config)
        with torch.no_grad():
            for module in model.modules():
                if "RMSNorm" in type(module).__name__:
                    module.weight.normal_()  # Gemma's norms scale by 1 + weight
        assert fuse_rmsnorm(model) == 0


def test_an_mlp_without_a_silu_is_left_alone():
    from transformers import Gemma2Config, Gemma2ForCausalLM

    config = Gemma2Config(vocab_size=32, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=2, num_key_value_heads=1, head_dim=16)
    assert fuse_swiglu(Gemma2ForCausalLM(config)) == 0  # GELU-gated


@pytest.mark.parametrize("checkpointing", [False, True])
def test_the_training_model_recomputes_layers_from_its_first_step_when_checkpointing(tiny_model_dir, checkpointing):
    """``build_lora_model`` hands over a model in training mode: with checkpointing, each decoder
    layer's attention runs again in the backward pass from the very first step (in eval mode
    transformers skips checkpointing, and Liger's fused loss, until the loop's first evaluation)."""
    from builder.config import TrainConfig
    from builder.train.recipe import build_lora_model, next_token_loss

    model = build_lora_model(TrainConfig(base_model=str(tiny_model_dir), quantize="none"), "cpu", checkpointing)
    assert model.training and all(module.training for module in model.modules())
    calls = []
    model.get_base_model().model.layers[0].self_attn.register_forward_hook(lambda *_: calls.append(1))
    next_token_loss(model, packed_batch()).backward()
    assert len(calls) == (2 if checkpointing else 1)


def test_a_4bit_model_trains_with_its_whole_gradient_after_an_evaluation(tiny_model_dir):
    """bitsandbytes repacks a 4-bit weight for CPU inference at its first eval-mode forward (on
    CPUs with AVX512-BF16, like this one); training after that ran an inference kernel without a
    backward and lost most of the gradient. The training model keeps its layout: the LoRA
    gradients after an evaluation are the ones without it."""
    from builder.config import TrainConfig
    from builder.train.recipe import build_lora_model, next_token_loss

    def lora_gradients(evaluate_first: bool) -> list:
        torch.manual_seed(0)
        model = build_lora_model(TrainConfig(base_model=str(tiny_model_dir), quantize="4bit", lora_dropout=0.0), "cpu", False)
        if evaluate_first:
            model.eval()
            with torch.no_grad():
                next_token_loss(model, packed_batch())
            model.train()
        next_token_loss(model, packed_batch()).backward()
        return [p.grad.clone() for p in model.parameters() if p.requires_grad]

    plain, after_eval = lora_gradients(False), lora_gradients(True)
    assert len(plain) == len(after_eval) > 0
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(plain, after_eval))
