#pragma once
// One decoder layer: attention and a feed-forward (dense MLP or MoE), each wrapped in a residual
// with a norm. Pre-norm (Llama, Qwen): h += attn(norm(h)); h += ffn(norm(h)). Post-norm (the
// original Transformer): h = norm(h + attn(h)); h = norm(h + ffn(h)). Hugging Face names:
// self_attn, mlp, input_layernorm, post_attention_layernorm.
#include "kiln/nn/attention.h"
#include "kiln/nn/moe.h"

namespace kiln::nn {

struct BlockConfig {
  AttentionConfig attn;
  NormKind norm = NormKind::RMSNorm;
  double norm_eps = 1e-6;
  bool post_norm = false;
  bool use_moe = false;
  MlpConfig mlp;  // when !use_moe
  MoeConfig moe;  // when use_moe
};

class Block : public Module {
 public:
  Block(const BlockConfig& c, int64_t layer_index, DType dt = DType::F32);
  Tensor forward(const Tensor& h, const PositionContext& pos, KvCache* cache = nullptr);

  Attention* self_attn;
  Mlp* mlp = nullptr;  // dense layers
  Moe* moe = nullptr;  // MoE layers (named "mlp" too)
  Norm* input_layernorm;
  Norm* post_attention_layernorm;

 private:
  Tensor ffn(const Tensor& x);
  bool post_norm_;
};

}  // namespace kiln::nn
