#pragma once
// Deterministic, seeded random numbers. Philox-4x32-10 (counter-based), so that a stream's state is
// (seed, offset) and can be checkpointed and resumed exactly, and parallel fills do not depend on
// the thread count: element i of a fill always takes counter offset+i.
#include <cstdint>

#include "kiln/core/tensor.h"

namespace kiln {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves n counters and returns the first.
  uint64_t take(uint64_t n) {
    uint64_t o = offset_;
    offset_ += n;
    return o;
  }
  // One uniform 32-bit word for counter c (pure function of seed and c).
  uint32_t bits(uint64_t c) const;
  // Uniform in [0, 1) with 24 random bits.
  float uniform01(uint64_t c) const { return float(bits(c) >> 8) * (1.0f / 16777216.0f); }
  // A standalone draw for host-side sampling.
  double next_uniform();

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The process-wide default generator (seeded by manual_seed).
Generator& default_generator();
void manual_seed(uint64_t seed);

// In-place fills (floating tensors). Each element uses its own counter(s), so results do not
// depend on threads.
void uniform_(const Tensor& t, double lo, double hi, Generator& g = default_generator());
void normal_(const Tensor& t, double mean, double std, Generator& g = default_generator());
// Normal truncated to [mean + a*std, mean + b*std] by inverse-CDF sampling.
void trunc_normal_(const Tensor& t, double mean, double std, double a = -2.0, double b = 2.0,
                   Generator& g = default_generator());

}  // namespace kiln
