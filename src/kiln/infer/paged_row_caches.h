#pragma once
// The server's batch of independent sequences over one block pool (nn::RowKvCaches, each row its
// own PagedKvCache), with the decode step's attention for the whole batch in one kernel call:
// every row reads its own blocks in place. Row by row through the attention op instead, each of
// a 64-sequence batch's rows gathered its whole cache into a buffer and woke the thread pool on
// its own, every layer of every step.
#include <vector>

#include "kiln/infer/paged_kv_cache.h"
#include "kiln/nn/kv_cache.h"

namespace kiln::infer {

class PagedRowCaches : public nn::RowKvCaches {
 public:
  // `packed`: as nn::RowKvCaches (a prefill of several sequences' chunks in one pass).
  explicit PagedRowCaches(const std::vector<PagedKvCache*>& rows, std::vector<int64_t> packed = {});
  // q [B, Hq, 1, D] in f32, not packed (a decode step): appends row r's k, v [B, Hkv, 1, D] to row
  // r's cache and returns every row's attention, each bit-identical to that row's
  // PagedKvCache::attend() alone. Otherwise undefined, nothing appended: attention goes row by row.
  Tensor attend(int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v) override;

 private:
  std::vector<PagedKvCache*> paged_;
  std::vector<PagedDecodeView> views_;
};

}  // namespace kiln::infer
