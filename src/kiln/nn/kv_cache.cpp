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

std::pair<Tensor, Tensor> RowKvCaches::append(int64_t, const Tensor&, const Tensor&) {
  KILN_CHECK(false, "RowKvCaches: append through row(r); the batch has no single cache");
  return {};
}

}  // namespace kiln::nn
