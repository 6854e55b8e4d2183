#include <algorithm>
#include <cstring>
#include <vector>

#include "kiln/core/dispatch.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/embedding.h"

namespace kiln::ops::cpu {

namespace {

template <class F>
void with_ids(const Tensor& ids, F&& f) {
  if (ids.dtype() == DType::I32) {
    f(ids.data<int32_t>());
  } else {
    f(ids.data<int64_t>());
  }
}

}  // namespace

void embedding(const Tensor& weight, const Tensor& ids, const Tensor& out) {
  int64_t n = ids.numel(), d = weight.size(1);
  size_t row = dtype_nbytes(weight.dtype(), d);
  const char* w = static_cast<const char*>(weight.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  with_ids(ids, [&](const auto* id) {
    parallel_for(n, std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t i = b; i < e; ++i)
                     std::memcpy(o + size_t(i) * row, w + size_t(id[i]) * row, row);
                 });
  });
}

// Counting sort of positions by id (stable, O(n + V)), then each thread owns a range of vocab
// rows and sums their gradient rows in position order: no races, no atomics, and the result does
// not depend on the thread count. Rows no id touches are zeroed in the same pass.
void embedding_backward(const Tensor& dy, const Tensor& ids, const Tensor& dweight) {
  int64_t n = ids.numel(), vocab = dweight.size(0), d = dweight.size(1);
  std::vector<int64_t> start(size_t(vocab) + 1, 0), order(static_cast<size_t>(n));
  with_ids(ids, [&](const auto* id) {
    for (int64_t i = 0; i < n; ++i) ++start[size_t(id[i]) + 1];
    for (int64_t v = 0; v < vocab; ++v) start[v + 1] += start[v];
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i) order[size_t(next[size_t(id[i])]++)] = i;
  });
  visit_float(dy.dtype(), "embedding_backward", [&](auto tag) {
    using T = decltype(tag);
    using A = acc_t<T>;
    const T* g = static_cast<const T*>(dy.raw_data());
    T* w = static_cast<T*>(dweight.raw_data());
    parallel_for(vocab, std::max<int64_t>(1, 4096 / std::max<int64_t>(d, 1)),
                 [&](int64_t b, int64_t e) {
                   std::vector<A> acc(static_cast<size_t>(d));
                   for (int64_t v = b; v < e; ++v) {
                     T* out = w + v * d;
                     if (start[v] == start[v + 1]) {
                       std::memset(static_cast<void*>(out), 0, sizeof(T) * size_t(d));
                       continue;
                     }
                     std::fill(acc.begin(), acc.end(), A(0));
                     for (int64_t k = start[v]; k < start[v + 1]; ++k) {
                       const T* src = g + order[size_t(k)] * d;
                       for (int64_t j = 0; j < d; ++j) acc[j] += load_as<T, A>(src + j);
                     }
                     for (int64_t j = 0; j < d; ++j) store_as<T, A>(out + j, acc[j]);
                   }
                 });
  });
}

}  // namespace kiln::ops::cpu
