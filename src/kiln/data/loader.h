#pragma once
// Packed batches from a token shard. The stream is cut into windows of seq+1 tokens (documents
// packed back to back with their EOS separators); each epoch visits the windows in a seeded random
// order; the position (epoch, window) is all the state, so a run resumes mid-epoch exactly.
#include <cstdint>

#include "kiln/core/tensor.h"
#include "kiln/data/shards.h"

namespace kiln::data {

struct Batch {
  Tensor inputs;     // [B, T] i64
  Tensor targets;    // [B, T] i64 (inputs shifted by one)
  Tensor positions;  // [B, T] i64: 0..T-1, or restarting after each EOS when doc masking
  Tensor doc_mask;   // [B, 1, T, T] u8, nonzero = masked (set only when doc masking is on)
};

struct LoaderPosition {
  int64_t epoch = 0, window = 0;
};

class TokenLoader {
 public:
  TokenLoader(const TokenShard& shard, int64_t batch, int64_t seq, uint64_t seed, bool shuffle,
              bool doc_masking = false);
  Batch next();
  LoaderPosition position() const { return pos_; }
  void seek(LoaderPosition p);
  int64_t windows_per_epoch() const { return windows_; }

 private:
  int64_t window_at(int64_t epoch, int64_t i) const;  // the i-th window of an epoch's order

  const TokenShard& shard_;
  int64_t batch_, seq_, windows_;
  uint64_t seed_;
  bool shuffle_, doc_masking_;
  LoaderPosition pos_;
  mutable int64_t order_epoch_ = -1;
  mutable std::vector<int64_t> order_;
};

}  // namespace kiln::data
