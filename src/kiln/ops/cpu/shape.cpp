#include <algorithm>
#include <cstring>

#include "kiln/core/thread_pool.h"
#include "kiln/ops/shape.h"

namespace kiln::ops::cpu {

// Each input is `outer` runs of size(dim) * inner elements laid end to end in every output row:
// one memcpy per (row, input), spread over threads.
void concat(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out) {
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < dim; ++k) outer *= out.size(k);
  for (int64_t k = dim + 1; k < out.dim(); ++k) inner *= out.size(k);
  size_t esize = dtype_nbytes(out.dtype(), 1);
  int64_t n = int64_t(xs.size());
  std::vector<size_t> run(xs.size()), at(xs.size());
  size_t row = 0;
  for (int64_t i = 0; i < n; ++i) {
    at[i] = row;
    run[i] = size_t(xs[i].size(dim) * inner) * esize;
    row += run[i];
  }
  char* o = static_cast<char*>(out.raw_data());
  int64_t grain = std::max<int64_t>(1, int64_t(65536 / std::max<size_t>(1, row / size_t(n))));
  parallel_for(outer * n, grain, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t r = t / n, i = t % n;
      if (run[i] == 0) continue;
      const char* src = static_cast<const char*>(xs[i].raw_data()) + size_t(r) * run[i];
      std::memcpy(o + size_t(r) * row + at[i], src, run[i]);
    }
  });
}

}  // namespace kiln::ops::cpu
