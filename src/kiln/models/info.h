#pragma once
// What a model costs, from its config alone (nothing is allocated): parameters, FLOPs per token,
// KV-cache bytes, and the memory to serve and to train it.
//
// Conventions:
//   total_params    unique parameters (a tied embedding counts once), as the checkpoint stores
//   active_params   parameters one token uses: every expert MLP counted top_k times instead of
//                   num_experts (router, shared expert and embedding in full)
//   flops_per_token forward FLOPs of one token attending to `context` keys: 2 per active matmul
//                   weight (the LM head too, tied or not; not the embedding lookup, norms or
//                   biases) plus 4 * heads * head_dim * keys per layer for QK^T and AV, the keys
//                   of a sliding layer capped at its window. Training is about 3x this.
//   kv bytes        2 (k and v) * kv_heads * head_dim * dtype bytes per token and layer
//   serve memory    weights at bf16, int8 (Q8_0: 34 bytes per 32) and int4 (Q4_K: 144 bytes per
//                   256) plus the KV cache of one sequence of `context` tokens
//   train memory    AdamW in bf16 mixed precision: bf16 weights and grads, f32 master weights and
//                   two f32 moments (16 bytes/param), plus activations saved for backward (bf16,
//                   no recomputation, fused attention: per layer the block inputs, normed inputs,
//                   q/k/v, attention output and the MLP/expert intermediates; f32 logits and their
//                   gradient for the LM head)
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "kiln/core/dtype.h"
#include "kiln/models/config.h"

namespace kiln::models {

struct ParamCounts {
  int64_t total = 0;
  int64_t active = 0;
  int64_t embedding = 0;      // vocab * hidden (the input embedding)
  int64_t lm_head = 0;        // 0 when tied
  int64_t active_matmul = 0;  // weights multiplied per token (LM head included even when tied)
  // total with the LM head counted apart even when tied, as a checkpoint that stores
  // lm_head.weight anyway counts it (the Hub's figure for Qwen3-1.7B, 2.03B)
  int64_t untied() const { return lm_head > 0 ? total : total + embedding; }
};
ParamCounts count_params(const ModelConfig& c);

double flops_per_token(const ModelConfig& c, int64_t context);

int64_t kv_bytes_per_token_per_layer(const ModelConfig& c, DType dt);
int64_t kv_bytes_per_token(const ModelConfig& c, DType dt);
// One sequence of `context` tokens; sliding layers keep at most their window.
int64_t kv_bytes(const ModelConfig& c, int64_t context, DType dt);

struct ServeMemory {
  int64_t weights_bf16 = 0, weights_int8 = 0, weights_int4 = 0;
  int64_t kv = 0;  // one sequence at `context`, in kv_dtype
};
ServeMemory serve_memory(const ModelConfig& c, int64_t context, DType kv_dtype = DType::BF16);

struct TrainMemory {
  int64_t weights = 0, grads = 0, master = 0, moments = 0;
  int64_t activations = 0;  // for `tokens` tokens in flight (micro-batch * sequence length)
  int64_t total() const { return weights + grads + master + moments + activations; }
};
TrainMemory train_memory(const ModelConfig& c, int64_t tokens);

// Everything above for one config, as JSON and as the text `kiln info` prints. `context` sets the
// attention FLOPs and the KV cache; `train_tokens` the activations (micro-batch x sequence).
nlohmann::json info_json(const ModelConfig& c, int64_t context, int64_t train_tokens);
std::string info_text(const ModelConfig& c, int64_t context, int64_t train_tokens);

}  // namespace kiln::models
