#include "kiln/nn/attention.h"

#include "kiln/autograd/functions.h"
#include "kiln/ops/matmul.h"

namespace kiln::nn {

Attention::Attention(const AttentionConfig& c, int64_t layer_index, DType dt)
    : c_(c), layer_(layer_index) {
  KILN_REQUIRE(c.heads > 0 && c.kv_heads > 0 && c.heads % c.kv_heads == 0,
               "attention: num_attention_heads ", c.heads, " must be a positive multiple of ",
               "num_key_value_heads ", c.kv_heads);
  KILN_REQUIRE(c.head_dim > 0, "attention: head_dim ", c.head_dim, ", expected > 0");
  int64_t q_out = c.heads * c.head_dim * (c.output_gate ? 2 : 1);
  int64_t kv_out = c.kv_heads * c.head_dim;
  q_proj = register_module("q_proj", std::make_unique<Linear>(c.hidden, q_out, c.qkv_bias, dt));
  k_proj = register_module("k_proj", std::make_unique<Linear>(c.hidden, kv_out, c.qkv_bias, dt));
  v_proj = register_module("v_proj", std::make_unique<Linear>(c.hidden, kv_out, c.qkv_bias, dt));
  o_proj = register_module("o_proj",
                           std::make_unique<Linear>(c.heads * c.head_dim, c.hidden, c.o_bias, dt));
  if (c.qk_norm) {
    q_norm = register_module("q_norm",
                             std::make_unique<Norm>(NormKind::RMSNorm, c.head_dim, c.norm_eps, dt));
    k_norm = register_module("k_norm",
                             std::make_unique<Norm>(NormKind::RMSNorm, c.head_dim, c.norm_eps, dt));
  }
}

Tensor Attention::forward(const Tensor& x, const PositionContext& pos, KvCache* cache) const {
  KILN_REQUIRE(x.dim() == 3 && x.size(2) == c_.hidden, "attention: input ", shape_str(x.sizes()),
               ", expected [B, T, ", c_.hidden, "]");
  int64_t b = x.size(0), t = x.size(1), d = c_.head_dim;
  Tensor q = q_proj->forward(x), gate;
  if (c_.output_gate) {
    std::vector<Tensor> parts = split(reshape(q, {b, t, c_.heads, 2 * d}), {d, d}, -1);
    q = parts[0];
    gate = reshape(parts[1], {b, t, c_.heads * d});
  }
  q = reshape(q, {b, t, c_.heads, d});
  Tensor k = reshape(k_proj->forward(x), {b, t, c_.kv_heads, d});
  Tensor v = reshape(v_proj->forward(x), {b, t, c_.kv_heads, d});
  if (c_.qk_norm) {
    q = q_norm->forward(q);
    k = k_norm->forward(k);
  }
  q = transpose(q, 1, 2);
  k = transpose(k, 1, 2);
  v = transpose(v, 1, 2);
  if (pos.cos.defined()) {
    q = rope(q, pos.cos, pos.sin);
    k = rope(k, pos.cos, pos.sin);
  }
  AttentionOptions o;
  o.window = c_.window;
  o.bias = pos.alibi;
  Tensor att;
  if (cache && cache->row(0)) {
    // Rows are separate sequences of different lengths: each attends over its own cache, with
    // the same kernel call as when it runs alone: the rows' own batched decode kernel where they
    // have one (infer::PagedRowCaches), else the attention op row by row. Never a single
    // sequence's attend(): the server splits prompts into chunks that depend on the batch, and a
    // one-token chunk would take the paged decode kernel where a longer one takes this op.
    KILN_REQUIRE(!pos.alibi.defined(), "attention: ALiBi is not supported with per-row caches");
    att = cache->attend(layer_, q, k, v);
    std::span<const int64_t> packed = cache->packed();
    std::vector<Tensor> rows;
    // Row r's slice of a tensor: batch index r, or its tokens of the packed row.
    int64_t rows_n = packed.empty() ? b : int64_t(packed.size()), dim = packed.empty() ? 0 : 2;
    KILN_REQUIRE(packed.empty() || b == 1, "attention: packed rows need batch 1, found ", b);
    for (int64_t r = 0, off = 0; r < rows_n && !att.defined(); ++r) {
      int64_t n = packed.empty() ? 1 : packed[size_t(r)];
      auto [kr, vr] = cache->row(r)->append(layer_, narrow(k, dim, off, n), narrow(v, dim, off, n));
      rows.push_back(attention(narrow(q, dim, off, n), kr, vr, o));
      off += n;
    }
    if (!att.defined()) att = rows.size() == 1 ? rows[0] : concat(rows, dim);
  } else {
    // The cache's own decode kernel rounds differently from the attention op; under
    // ops::BatchInvariantGuard (the server, whose prompt chunks depend on the batch, so that a
    // one-token chunk is possible) every query goes through the op instead.
    if (cache && !o.bias.defined() && !ops::batch_invariant()) att = cache->attend(layer_, q, k, v);
    if (!att.defined()) {
      if (cache) std::tie(k, v) = cache->append(layer_, k, v);
      att = attention(q, k, v, o);
    }
  }
  Tensor y = reshape(transpose(att, 1, 2), {b, t, c_.heads * d});
  if (gate.defined()) y = y * sigmoid(gate);
  return o_proj->forward(y);
}

}  // namespace kiln::nn
