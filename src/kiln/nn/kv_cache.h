#pragma once
// The seam through which inference keeps keys and values between steps. Attention hands each
// step's rotated keys and values to the cache and attends over what it returns; the model
// definition stays the same with or without one.
#include <span>
#include <utility>
#include <vector>

#include "kiln/core/tensor.h"

namespace kiln::nn {

class KvCache {
 public:
  virtual ~KvCache() = default;
  // Appends k, v [B, Hkv, T, D] of `layer`; returns all keys and values [B, Hkv, S, D].
  virtual std::pair<Tensor, Tensor> append(int64_t layer, const Tensor& k, const Tensor& v) = 0;
  // Positions already cached (before the current step).
  virtual int64_t length() const = 0;
  // Causal attention [B, Hq, T, D] of q over the cached keys and values plus k, v (appended), in
  // the cache's own layout, where it has a kernel for that (the paged cache's decode step).
  // Undefined, and nothing appended, where it has not: the caller appends and attends itself.
  virtual Tensor attend(int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v) {
    return Tensor();
  }
  // Continuous batching: a batch whose row r is its own sequence, with its own cache and length,
  // returns that cache here; attention then appends and attends row by row. Null (the default):
  // one cache holds the whole batch.
  virtual KvCache* row(int64_t r) { return nullptr; }
  // Packed rows (with row()): the batch is one row [1, T] holding the sequences' new tokens one
  // after another, packed()[r] of them for row r, so that several prompts' chunks share one pass
  // over the weights. Empty (the default): row r is batch index r.
  virtual std::span<const int64_t> packed() const { return {}; }
};

// The rows of a batch of independent sequences, each with its own cache. Attention reaches
// them through row(); the forward must be given positions (lengths differ per row).
class RowKvCaches : public KvCache {
 public:
  // `packed`: empty, or the tokens of each row in a packed batch [1, sum(packed)] (see packed()).
  explicit RowKvCaches(std::vector<KvCache*> rows, std::vector<int64_t> packed = {});
  std::pair<Tensor, Tensor> append(int64_t layer, const Tensor& k, const Tensor& v) override;
  int64_t length() const override { return 0; }
  KvCache* row(int64_t r) override { return rows_.at(size_t(r)); }
  std::span<const int64_t> packed() const override { return packed_; }
  int64_t rows() const { return int64_t(rows_.size()); }

 private:
  std::vector<KvCache*> rows_;
  std::vector<int64_t> packed_;
};

// Contiguous per-layer tensors grown by concatenation: the reference cache for tests and small
// runs (the paged cache lives in infer).
class DenseKvCache : public KvCache {
 public:
  explicit DenseKvCache(int64_t n_layers) : k_(size_t(n_layers)), v_(size_t(n_layers)) {}
  std::pair<Tensor, Tensor> append(int64_t layer, const Tensor& k, const Tensor& v) override;
  int64_t length() const override { return k_[0].defined() ? k_[0].size(2) : 0; }

 private:
  std::vector<Tensor> k_, v_;
};

}  // namespace kiln::nn
