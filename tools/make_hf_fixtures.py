#!/usr/bin/env python3
"""Tiny Hugging Face models with reference logits, for tests/models/hf_fixtures_test.cpp.

Needs torch, transformers and safetensors (pip). Run from the repository root:

    python3 tools/make_hf_fixtures.py tests/data/hf

For each fixture it builds a random model with transformers (eager attention, float32), gives
every parameter random values (norm scales around 1, so that norms and biases matter), saves it
with save_pretrained (safetensors; some in bfloat16 to test that path), and stores the float32
logits of three token sequences in logits.safetensors ("logits_0".., each [T, V]) with the
sequences in ids.json. Every model has hidden size 64 and 1-2 layers; all fixtures together stay
under 5 MB.

YaRN note: transformers versions disagree on which of rope_scaling.factor and
max_position_embeddings / original_max_position_embeddings is the YaRN factor; the fixture sets
both to 4 so that every version computes the same table.
"""
import argparse
import json
import os
import shutil

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoConfig, AutoModelForCausalLM

COMMON = dict(
    vocab_size=256,
    hidden_size=64,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    max_position_embeddings=256,
    rms_norm_eps=1e-6,
    rope_theta=10000.0,
    tie_word_embeddings=False,
    bos_token_id=1,
    eos_token_id=2,
)

# name: (model_type, overrides, saved dtype)
FIXTURES = {
    "llama": ("llama", {}, torch.float32),
    "llama_bias_mqa": ("llama", dict(attention_bias=True, mlp_bias=True, num_key_value_heads=1,
                                     tie_word_embeddings=True), torch.bfloat16),
    "llama_linear_rope": ("llama", dict(rope_scaling={"rope_type": "linear", "factor": 2.0}),
                          torch.bfloat16),
    # Grows past max_position_embeddings = 8 in the longer sequences (run in increasing length,
    # which is what transformers' cached dynamic table assumes).
    "llama_dynamic_rope": ("llama", dict(max_position_embeddings=8,
                                         rope_scaling={"rope_type": "dynamic", "factor": 2.0}),
                           torch.bfloat16),
    # head_dim 16: wavelengths 6.3 .. 19869; original context 64 keeps, smooths and divides some.
    "llama3_rope": ("llama", dict(rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                                "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                "original_max_position_embeddings": 64}),
                    torch.float32),
    "mistral_sliding": ("mistral", dict(sliding_window=4), torch.float32),
    "qwen2": ("qwen2", dict(tie_word_embeddings=True), torch.float32),
    # Layers from max_window_layers on slide.
    "qwen2_sliding": ("qwen2", dict(use_sliding_window=True, sliding_window=4,
                                    max_window_layers=1), torch.bfloat16),
    # transformers 5 layer_types: an explicit per-layer pattern.
    "qwen3_layer_types": ("qwen3", dict(use_sliding_window=True, sliding_window=4,
                                        layer_types=["sliding_attention", "full_attention"]),
                          torch.bfloat16),
    "qwen3": ("qwen3", dict(tie_word_embeddings=True), torch.float32),
    "qwen3_yarn": ("qwen3", dict(max_position_embeddings=256,
                                 rope_scaling={"rope_type": "yarn", "factor": 4.0,
                                               "original_max_position_embeddings": 64}),
                   torch.float32),
    "qwen3_moe_top2": ("qwen3_moe", dict(num_experts=8, num_experts_per_tok=2,
                                         moe_intermediate_size=32, norm_topk_prob=True),
                       torch.float32),
    "qwen3_moe_top8": ("qwen3_moe", dict(num_experts=16, num_experts_per_tok=8,
                                         moe_intermediate_size=16, norm_topk_prob=False,
                                         mlp_only_layers=[0]),
                       torch.float32),
}

LENGTHS = (5, 12, 17)


def randomize(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if "norm" in name:
                p.copy_(1.0 + 0.1 * noise)
            else:
                p.copy_(0.15 * noise)


def config_kwargs(overrides):
    kw = {**COMMON, **overrides}
    if int(transformers.__version__.split(".")[0]) >= 5:
        # transformers 5 spells rope_theta and rope_scaling as one rope_parameters dict.
        rope = dict(kw.pop("rope_scaling", None) or {"rope_type": "default"})
        rope["rope_theta"] = kw.pop("rope_theta")
        kw["rope_parameters"] = rope
    return kw


def make(name, model_type, overrides, dtype, out_root, seed):
    gen = torch.Generator().manual_seed(seed)
    cfg = AutoConfig.for_model(model_type, **config_kwargs(overrides))
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float()
    randomize(model, gen)
    out = os.path.join(out_root, name)
    shutil.rmtree(out, ignore_errors=True)
    model.to(dtype).save_pretrained(out)
    # The reference is what transformers computes from the saved folder in f32 (casting the
    # live model back would also round its RoPE buffers to bf16).
    v5 = int(transformers.__version__.split(".")[0]) >= 5
    f32 = {"dtype" if v5 else "torch_dtype": torch.float32}
    model = AutoModelForCausalLM.from_pretrained(out, attn_implementation="eager", **f32).eval()
    seqs = [torch.randint(0, cfg.vocab_size, (n,), generator=gen) for n in LENGTHS]
    logits = {}
    with torch.no_grad():
        for i, ids in enumerate(seqs):
            logits[f"logits_{i}"] = model(input_ids=ids[None]).logits[0].float().contiguous()
    save_file(logits, os.path.join(out, "logits.safetensors"))
    with open(os.path.join(out, "ids.json"), "w") as f:
        json.dump({"sequences": [s.tolist() for s in seqs],
                   "transformers_version": transformers.__version__,
                   "torch_version": torch.__version__}, f)
    return sum(os.path.getsize(os.path.join(out, x)) for x in os.listdir(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="output folder, e.g. tests/data/hf")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for i, (name, (model_type, overrides, dtype)) in enumerate(FIXTURES.items()):
        size = make(name, model_type, overrides, dtype, args.out, args.seed + i)
        total += size
        print(f"{name:22s} {size / 1024:8.1f} KiB")
    print(f"{'total':22s} {total / 1024:8.1f} KiB (transformers {transformers.__version__})")


if __name__ == "__main__":
    main()
