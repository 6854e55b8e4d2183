#pragma once
// One decoder layer: attention and a feed-forward (dense MLP or MoE), each wrapped in a residual
// with a norm. Pre-norm (Llama, Qwen): h += attn(norm(h)); h += ffn(norm(h)). Post-norm (the
// original Transformer): h = norm(h + attn(h)); h = norm(h + ffn(h)). Hugging Face names:
// self_attn, mlp, input_layernorm, post_attention_layernorm.
#include "kiln/nn/attention.h"
#include "kiln/nn/moe.h"

namespace kiln::nn {

// Gradient checkpointing of a block in training (see autograd/checkpoint.h): keep only the block's
// input and recompute it in backward (Whole), or recompute only the attention sublayer (Attention),
// whose activations grow with sequence length. MoE blocks checkpoint attention only, because the
// router's load-balancing losses leave the block beside its output.
enum class Checkpoint { None, Whole, Attention };

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
  Checkpoint checkpoint = Checkpoint::None;

 private:
  Tensor ffn(const Tensor& x);
  // h -> the stream after the attention residual; a -> the stream after the feed-forward residual.
  Tensor attention_part(const Tensor& h, const PositionContext& pos, KvCache* cache);
  Tensor ffn_part(const Tensor& a);
  bool post_norm_;
};

}  // namespace kiln::nn
