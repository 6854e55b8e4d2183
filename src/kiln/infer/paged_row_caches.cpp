#include "kiln/infer/paged_row_caches.h"

#include "kiln/core/error.h"

namespace kiln::infer {

namespace {
std::vector<nn::KvCache*> base(const std::vector<PagedKvCache*>& rows) {
  return {rows.begin(), rows.end()};
}
}  // namespace

PagedRowCaches::PagedRowCaches(const std::vector<PagedKvCache*>& rows, std::vector<int64_t> packed)
    : nn::RowKvCaches(base(rows), std::move(packed)), paged_(rows) {}

Tensor PagedRowCaches::attend(int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v) {
  int64_t b = int64_t(paged_.size());
  // A packed prefill goes through the attention op row by row, as each prompt chunk does alone.
  if (b == 0 || !packed().empty() || q.dim() != 4 || q.size(0) != b) return Tensor();
  const BlockPool& pool = paged_[0]->pool();
  for (PagedKvCache* c : paged_)
    if (&c->pool() != &pool || !c->decodes(q)) return Tensor();
  KILN_REQUIRE(k.dim() == 4 && k.size(0) == b && v.sizes() == k.sizes(), "paged rows: k ",
               shape_str(k.sizes()), ", v ", shape_str(v.sizes()), " for ", b, " rows");
  views_.clear();
  for (int64_t r = 0; r < b; ++r)
    views_.push_back(paged_[size_t(r)]->decode_view(layer, k.narrow(0, r, 1), v.narrow(0, r, 1)));
  const KvLayout& l = pool.layout();
  Tensor qc = q.contiguous(), out = Tensor::empty(q.sizes());
  paged_decode_attention_rows(qc.data<float>(), out.data<float>(), b, q.size(1), l.kv_heads,
                              l.head_dim, pool.block_size(), views_.data());
  return out;
}

}  // namespace kiln::infer
