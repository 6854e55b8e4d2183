#include "kiln/ops/rows.h"

namespace kiln::ops {

Tensor as_rows(const Tensor& t) {
  int64_t n = t.dim() == 0 ? 1 : t.size(-1);
  int64_t rows = n == 0 ? 0 : t.numel() / n;
  if (t.dim() == 0 || (n > 1 && t.stride(-1) != 1)) return t.contiguous().view({rows, n});
  // The leading dims collapse when each one's stride is the next one's stride times its size.
  int64_t stride = 0;
  bool seen = false, ok = true;
  for (int64_t d = t.dim() - 2; d >= 0 && ok; --d) {
    if (t.size(d) == 1) continue;
    if (!seen) {
      stride = t.stride(d);
      seen = true;
    }
    int64_t inner = 1;
    for (int64_t e = d + 1; e < t.dim() - 1; ++e) inner *= t.size(e);
    ok = t.stride(d) == stride * inner;
  }
  if (!ok) return t.contiguous().view({rows, n});
  return t.as_strided({rows, n}, {seen ? stride : n, 1}, t.offset());
}

}  // namespace kiln::ops
