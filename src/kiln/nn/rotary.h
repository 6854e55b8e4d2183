#pragma once
// Rotary position embedding tables: the inverse frequencies of each rotated pair and the cos/sin
// tables the rope op applies. The scalings follow Hugging Face transformers' rope_type values and
// compute inv_freq and the attention (cos/sin) scaling the same way, in f32 as torch does:
//   default  inv_freq[i] = 1 / theta^(2i/R), R = rotary dims = int(head_dim *
//   partial_rotary_factor) linear   inv_freq / factor dynamic  NTK-aware: theta * (factor * L /
//   max_pos - (factor - 1))^(R / (R - 2)) with L the
//            sequence length (max position + 1) when it exceeds max_position_embeddings. HF
//            caches the grown table across calls; here each call uses its own positions.
//   yarn     per-dim blend of interpolated (inv_freq / factor) and extrapolated frequencies by a
//            linear ramp between the correction dims of beta_fast and beta_slow rotations over
//            original_max_position_embeddings; cos and sin scaled by attention_factor
//            (default 0.1 ln(factor) + 1, or the mscale / mscale_all_dim ratio)
//   llama3   wavelengths above original/low_freq_factor divided by factor, below
//            original/high_freq_factor kept, smoothly interpolated between
#include <string>
#include <utility>
#include <vector>

#include "kiln/core/tensor.h"

namespace kiln::nn {

struct RopeScaling {
  std::string rope_type = "default";  // default | linear | dynamic | yarn | llama3
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;      // 0: max_position_embeddings
  double attention_factor = 0;                       // yarn; 0: derived
  double beta_fast = 32, beta_slow = 1;              // yarn
  double mscale = 0, mscale_all_dim = 0;             // yarn; 0: unset
  bool truncate = true;                              // yarn: floor/ceil the correction range
  double low_freq_factor = 1, high_freq_factor = 4;  // llama3
};

struct RopeConfig {
  int64_t head_dim = 64;
  double theta = 10000;
  double partial_rotary_factor = 1.0;
  int64_t max_position_embeddings = 2048;
  RopeScaling scaling;
  int64_t rotary_dim() const { return int64_t(double(head_dim) * partial_rotary_factor); }
};

// Throws kiln::Error naming the bad field (rope_type, factor, rotary dims, ...).
void validate(const RopeConfig& c);

struct RopeFrequencies {
  std::vector<float> inv_freq;    // rotary_dim / 2 values
  float attention_scaling = 1.f;  // multiplies cos and sin
};
// seq_len matters only for "dynamic".
RopeFrequencies rope_frequencies(const RopeConfig& c, int64_t seq_len = 0);

class RotaryEmbedding {
 public:
  explicit RotaryEmbedding(RopeConfig c);
  const RopeConfig& config() const { return c_; }
  // positions: i64 [T] or [B, T] -> cos, sin [1 or B, T, rotary_dim / 2] of dtype dt.
  std::pair<Tensor, Tensor> cos_sin(const Tensor& positions, DType dt) const;

 private:
  RopeConfig c_;
  RopeFrequencies fixed_;  // every type but dynamic
};

}  // namespace kiln::nn
