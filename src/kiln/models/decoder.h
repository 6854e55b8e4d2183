#pragma once
// The decoder language model of every supported family, built from a ModelConfig: token
// embedding, num_hidden_layers blocks, a final norm and the LM head (tied to the embedding when
// tie_word_embeddings). The module tree carries the Hugging Face names: "model.embed_tokens",
// "model.layers.N...", "model.norm", "lm_head".
#include <memory>
#include <vector>

#include "kiln/models/config.h"
#include "kiln/nn/block.h"
#include "kiln/nn/kv_cache.h"
#include "kiln/nn/linear.h"

namespace kiln::models {

struct ForwardOutput {
  Tensor logits;  // [B, T, V]
  // MoE only (undefined for dense models): means over the MoE layers of each layer's losses
  // (see nn/moe.h), and router_aux_loss_coef * aux_loss + router_z_loss_coef * z_loss, to add
  // to the training loss.
  Tensor aux_loss, z_loss, moe_loss;
  // Per MoE layer: its index and the slots routed to each expert (sums to B * T * k) and dropped.
  struct Utilization {
    int64_t layer;
    std::vector<int64_t> counts;
    int64_t dropped;
  };
  std::vector<Utilization> utilization;
};

class DecoderModel : public nn::Module {
 public:
  DecoderModel(const ModelConfig& c, DType dt);
  nn::Embedding* embed_tokens;
  nn::ModuleList<nn::Block>* layers;
  nn::Norm* norm;
};

class Decoder : public nn::Module {
 public:
  explicit Decoder(const ModelConfig& c, DType dt = DType::F32);

  // ids [B, T] (i32/i64). positions: i64 [T] or [B, T]; undefined means cache length + 0..T-1.
  // With a cache, keys and values of earlier calls are attended to and this call's are added.
  // last_only: logits [B, 1, V] of the last position alone (generation needs no others, and the
  // LM head over every prompt position is most of a large-vocabulary prefill's waste); with packed
  // row caches (nn::KvCache::packed()), [1, rows, V]: the last position of each row.
  ForwardOutput forward(const Tensor& ids, const Tensor& positions = Tensor(),
                        nn::KvCache* cache = nullptr, bool last_only = false);

  // Random init: normal(0, initializer_range) weights, unit norms, zero biases.
  void init_weights(Generator& g);
  // Gradient checkpointing for training: `mode` on every `every`-th block (0, every, 2 every...),
  // none on the others.
  void set_checkpointing(nn::Checkpoint mode, int64_t every = 1);
  // Starts a new global batch for MoE layers with global_load_balance.
  void reset_load_balance();

  const ModelConfig& config() const { return c_; }
  DType dtype() const { return dtype_; }
  // The LM head's weight: lm_head.weight, or the embedding when tied.
  const Tensor& lm_head_weight() const;

  DecoderModel* model;
  nn::Linear* lm_head = nullptr;  // null when tied

 private:
  nn::PositionContext positions_for(const Tensor& ids, const Tensor& positions, int64_t past) const;

  ModelConfig c_;
  DType dtype_;
  std::unique_ptr<nn::RotaryEmbedding> rotary_;
  std::vector<float> alibi_slopes_;
};

}  // namespace kiln::models
