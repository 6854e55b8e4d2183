#!/usr/bin/env bash
# Writes the cases tools/check_hf_export.py checks: a tiny random model of each family exported by
# `kiln convert --to hf`, and kiln's own logits for one token sequence.
# Usage: tools/make_hf_export_cases.sh OUT_DIR [KILN (default build/release/bin/kiln)]
set -euo pipefail
out="$1"
kiln="${2:-build/release/bin/kiln}"
ids="3,17,42,5,60,0,11,29,7,33,250,128"
mkdir -p "$out"
common='vocab_size: 256
hidden_size: 64
intermediate_size: 96
num_hidden_layers: 2
num_attention_heads: 4
num_key_value_heads: 2
head_dim: 16
max_position_embeddings: 256
rms_norm_eps: 1.0e-6
rope_theta: 10000.0
initializer_range: 0.3'
write_case() {  # name, extra yaml (tie_word_embeddings defaults to false here)
  local dir="$out/$1" extra="$2"
  mkdir -p "$dir"
  [[ "$extra" == *tie_word_embeddings* ]] || extra+=$'\ntie_word_embeddings: false'
  printf '%s\n%s\n' "$common" "$extra" >"$dir/preset.yaml"
  "$kiln" convert --model "$dir/preset.yaml" --to hf --out "$dir/model" >/dev/null
  "$kiln" logits --model "$dir/model" --ids "$ids" --out "$dir/kiln_logits.bin" >/dev/null
  echo "[$ids]" >"$dir/ids.json"
}
write_case llama 'model_type: llama'
write_case llama-tied 'model_type: llama
tie_word_embeddings: true'
write_case mistral-sliding 'model_type: mistral
sliding_window: 4'
write_case qwen2 'model_type: qwen2'
write_case qwen3 'model_type: qwen3'
write_case qwen3-yarn 'model_type: qwen3
rope_scaling: {rope_type: yarn, factor: 4.0, original_max_position_embeddings: 64}'
write_case qwen3-moe 'model_type: qwen3_moe
moe_intermediate_size: 32
num_experts: 8
num_experts_per_tok: 2
norm_topk_prob: true'
echo "wrote $(ls "$out" | wc -l) cases in $out"
