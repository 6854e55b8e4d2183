#include "kiln/nn/kv_cache.h"

#include "kiln/autograd/functions.h"

namespace kiln::nn {

std::pair<Tensor, Tensor> DenseKvCache::append(int64_t layer, const Tensor& k, const Tensor& v) {
  KILN_REQUIRE(layer >= 0 && layer < int64_t(k_.size()), "kv cache: layer ", layer,
               " out of range [0, ", k_.size(), ")");
  Tensor& kc = k_[size_t(layer)];
  Tensor& vc = v_[size_t(layer)];
  kc = kc.defined() ? concat({kc, k.detach()}, 2) : k.detach().contiguous();
  vc = vc.defined() ? concat({vc, v.detach()}, 2) : v.detach().contiguous();
  return {kc, vc};
}

RowKvCaches::RowKvCaches(std::vector<KvCache*> rows, std::vector<int64_t> packed)
    : rows_(std::move(rows)), packed_(std::move(packed)) {
  KILN_REQUIRE(packed_.empty() || packed_.size() == rows_.size(), "row caches: ", rows_.size(),
               " rows but ", packed_.size(), " packed lengths");
  for (int64_t n : packed_) KILN_REQUIRE(n > 0, "row caches: a packed row of ", n, " tokens");
}

std::pair<Tensor, Tensor> RowKvCaches::append(int64_t, const Tensor&, const Tensor&) {
  KILN_CHECK(false, "RowKvCaches: append through row(r); the batch has no single cache");
  return {};
}

}  // namespace kiln::nn
