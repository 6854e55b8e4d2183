#pragma once
// Multi-head self-attention as in Llama/Qwen/Mistral. num_kv_heads selects MHA (= heads), GQA
// (a divisor) or MQA (1); head_dim is independent of the hidden size. Options:
//   qkv_bias / o_bias   biases on the projections (Qwen2: q, k, v only)
//   qk_norm             Qwen3: RMSNorm over head_dim on q and k, before RoPE
//   output_gate         Qwen3-Next: q_proj also emits a per-head gate g, laid out per head as
//                       [q_h, g_h]; the attention output is multiplied by sigmoid(g) before o_proj
//   window              sliding window (a query sees the last `window` keys, itself included)
#include "kiln/nn/kv_cache.h"
#include "kiln/nn/linear.h"
#include "kiln/nn/norm.h"

namespace kiln::nn {

struct AttentionConfig {
  int64_t hidden = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  bool qkv_bias = false;
  bool o_bias = false;
  bool qk_norm = false;
  double norm_eps = 1e-6;  // of the qk norms
  bool output_gate = false;
  int64_t window = 0;  // 0: full causal attention
};

// What positions mean for one forward, shared by every layer.
struct PositionContext {
  Tensor cos, sin;  // RoPE tables [1 or B, T, rotary_dim / 2]; undefined without RoPE
  Tensor alibi;     // ALiBi bias [1, H, T, S]; undefined without ALiBi
};

class Attention : public Module {
 public:
  Attention(const AttentionConfig& c, int64_t layer_index, DType dt = DType::F32);
  // x [B, T, hidden] -> [B, T, hidden]. With a cache, attends over the cached keys too.
  Tensor forward(const Tensor& x, const PositionContext& pos, KvCache* cache = nullptr) const;
  const AttentionConfig& config() const { return c_; }

  Linear* q_proj;
  Linear* k_proj;
  Linear* v_proj;
  Linear* o_proj;
  Norm* q_norm = nullptr;
  Norm* k_norm = nullptr;

 private:
  AttentionConfig c_;
  int64_t layer_;
};

}  // namespace kiln::nn
