#include "kiln/nn/block.h"

#include "kiln/autograd/checkpoint.h"
#include "kiln/autograd/functions.h"
#include "kiln/autograd/grad_mode.h"

namespace kiln::nn {

Block::Block(const BlockConfig& c, int64_t layer_index, DType dt) : post_norm_(c.post_norm) {
  self_attn = register_module("self_attn", std::make_unique<Attention>(c.attn, layer_index, dt));
  if (c.use_moe)
    moe = register_module("mlp", std::make_unique<Moe>(c.moe, dt));
  else
    mlp = register_module("mlp", std::make_unique<Mlp>(c.mlp, dt));
  int64_t d = c.attn.hidden;
  input_layernorm =
      register_module("input_layernorm", std::make_unique<Norm>(c.norm, d, c.norm_eps, dt));
  post_attention_layernorm = register_module("post_attention_layernorm",
                                             std::make_unique<Norm>(c.norm, d, c.norm_eps, dt));
}

Tensor Block::ffn(const Tensor& x) {
  return moe ? moe->forward(x) : mlp->forward(x);
}

Tensor Block::attention_part(const Tensor& h, const PositionContext& pos, KvCache* cache) {
  if (post_norm_) return input_layernorm->forward(h + self_attn->forward(h, pos, cache));
  return h + self_attn->forward(input_layernorm->forward(h), pos, cache);
}

Tensor Block::ffn_part(const Tensor& a) {
  if (post_norm_) return post_attention_layernorm->forward(a + ffn(a));
  return a + ffn(post_attention_layernorm->forward(a));
}

Tensor Block::forward(const Tensor& h, const PositionContext& pos, KvCache* cache) {
  if (checkpoint == Checkpoint::None || cache || !grad_enabled())
    return ffn_part(attention_part(h, pos, cache));
  // Backward recomputes after this call returns: the closures own a copy of the positions.
  auto attn = [this, pos](const Tensor& x) { return attention_part(x, pos, nullptr); };
  if (checkpoint == Checkpoint::Attention || moe)
    return ffn_part(kiln::checkpoint("checkpoint_attention", attn, h));
  return kiln::checkpoint(
      "checkpoint_block", [this, attn](const Tensor& x) { return ffn_part(attn(x)); }, h);
}

}  // namespace kiln::nn
