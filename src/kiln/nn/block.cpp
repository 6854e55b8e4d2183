#include "kiln/nn/block.h"

#include "kiln/autograd/functions.h"

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

Tensor Block::forward(const Tensor& h, const PositionContext& pos, KvCache* cache) {
  if (post_norm_) {
    Tensor a = input_layernorm->forward(h + self_attn->forward(h, pos, cache));
    return post_attention_layernorm->forward(a + ffn(a));
  }
  Tensor a = h + self_attn->forward(input_layernorm->forward(h), pos, cache);
  return a + ffn(post_attention_layernorm->forward(a));
}

}  // namespace kiln::nn
