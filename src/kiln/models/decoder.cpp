#include "kiln/models/decoder.h"

#include "kiln/autograd/functions.h"
#include "kiln/nn/alibi.h"

namespace kiln::models {

DecoderModel::DecoderModel(const ModelConfig& c, DType dt) {
  embed_tokens = register_module("embed_tokens",
                                 std::make_unique<nn::Embedding>(c.vocab_size, c.hidden_size, dt));
  layers = register_module("layers", std::make_unique<nn::ModuleList<nn::Block>>());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    layers->push_back(std::make_unique<nn::Block>(c.block(i), i, dt));
  norm = register_module(
      "norm", std::make_unique<nn::Norm>(c.norm_type, c.hidden_size, c.rms_norm_eps, dt));
}

Decoder::Decoder(const ModelConfig& c, DType dt) : c_(c), dtype_(dt) {
  validate(c_);
  KILN_REQUIRE(is_float(dt), "model dtype: found ", dtype_name(dt), ", expected a float type");
  model = register_module("model", std::make_unique<DecoderModel>(c_, dt));
  if (!c_.tie_word_embeddings)
    lm_head = register_module(
        "lm_head", std::make_unique<nn::Linear>(c_.hidden_size, c_.vocab_size, false, dt));
  if (c_.positions == Positions::Rope) rotary_ = std::make_unique<nn::RotaryEmbedding>(c_.rope());
  if (c_.positions == Positions::Alibi) alibi_slopes_ = nn::alibi_slopes(c_.num_attention_heads);
}

const Tensor& Decoder::lm_head_weight() const {
  return lm_head ? lm_head->weight : model->embed_tokens->weight;
}

void Decoder::init_weights(Generator& g) {
  init_parameters(g, c_.initializer_range);
}

void Decoder::reset_load_balance() {
  for (nn::Block* b : *model->layers)
    if (b->moe) b->moe->reset_balance_window();
}

nn::PositionContext Decoder::positions_for(const Tensor& ids, const Tensor& positions,
                                           int64_t past) const {
  int64_t t = ids.size(1);
  nn::PositionContext pc;
  if (rotary_) {
    Tensor pos = positions;
    if (!pos.defined()) {
      std::vector<int64_t> p(static_cast<size_t>(t));
      for (int64_t i = 0; i < t; ++i) p[size_t(i)] = past + i;
      pos = Tensor::from_vector(p, {t}, ids.device());
    }
    KILN_REQUIRE(pos.dtype() == DType::I64 && pos.size(-1) == t &&
                     (pos.dim() == 1 || (pos.dim() == 2 && pos.size(0) == ids.size(0))),
                 "positions: found ", dtype_name(pos.dtype()), " ", shape_str(pos.sizes()),
                 ", expected i64 [", t, "] or [", ids.size(0), ", ", t, "]");
    std::tie(pc.cos, pc.sin) = rotary_->cos_sin(pos, dtype_);
  }
  if (!alibi_slopes_.empty()) pc.alibi = nn::alibi_bias(alibi_slopes_, t, past + t, past, dtype_);
  return pc;
}

void Decoder::set_checkpointing(nn::Checkpoint mode, int64_t every) {
  KILN_REQUIRE(every >= 1, "checkpointing: every must be >= 1, found ", every);
  for (int64_t i = 0; i < int64_t(model->layers->size()); ++i)
    (*model->layers)[size_t(i)].checkpoint = i % every == 0 ? mode : nn::Checkpoint::None;
}

ForwardOutput Decoder::forward(const Tensor& ids, const Tensor& positions, nn::KvCache* cache,
                               bool last_only) {
  KILN_REQUIRE(ids.dim() == 2 && (ids.dtype() == DType::I64 || ids.dtype() == DType::I32),
               "decoder input ids: found ", dtype_name(ids.dtype()), " ", shape_str(ids.sizes()),
               ", expected i64 or i32 [B, T]");
  int64_t past = cache ? cache->length() : 0;
  nn::PositionContext pc = positions_for(ids, positions, past);
  Tensor h = model->embed_tokens->forward(ids);
  ForwardOutput out;
  std::vector<Tensor> aux, z;
  for (int64_t i = 0; i < int64_t(model->layers->size()); ++i) {
    nn::Block& b = (*model->layers)[size_t(i)];
    h = b.forward(h, pc, cache);
    if (!b.moe) continue;
    const nn::MoeStats& s = b.moe->stats();
    aux.push_back(reshape(s.aux_loss, {1}));
    z.push_back(reshape(s.z_loss, {1}));
    out.utilization.push_back({i, s.counts, s.dropped});
  }
  std::span<const int64_t> packed = cache ? cache->packed() : std::span<const int64_t>();
  if (last_only && !packed.empty()) {  // the last token of each packed row
    std::vector<Tensor> last;
    int64_t end = 0;
    for (int64_t n : packed) last.push_back(narrow(h, 1, (end += n) - 1, 1));
    h = last.size() == 1 ? last[0] : concat(last, 1);
  } else if (last_only) {
    h = narrow(h, 1, h.size(1) - 1, 1);
  }
  h = model->norm->forward(h);
  out.logits = nn::project(h, lm_head_weight());
  if (!aux.empty()) {
    double inv = 1.0 / double(aux.size());
    out.aux_loss = sum(concat(aux, 0) * inv);
    out.z_loss = sum(concat(z, 0) * inv);
    out.moe_loss = out.aux_loss * c_.router_aux_loss_coef + out.z_loss * c_.router_z_loss_coef;
  }
  return out;
}

}  // namespace kiln::models
