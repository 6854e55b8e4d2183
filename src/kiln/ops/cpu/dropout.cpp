#include <cmath>

#include "kiln/core/dispatch.h"
#include "kiln/core/rng.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/dropout.h"

namespace kiln::ops::cpu {

void dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out) {
  visit_float(x.dtype(), "dropout", [&](auto v) {
    using T = decltype(v);
    using A = acc_t<T>;
    const Generator g(seed);
    // p = 1 gives 2^32, above every word: all dropped, and the infinite scale is never used.
    const uint64_t threshold = uint64_t(std::ldexp(p, 32));
    const A scale = A(1.0 / (1.0 - p));
    const T* xp = static_cast<const T*>(x.raw_data());
    T* op = static_cast<T*>(out.raw_data());
    parallel_for(out.numel(), 16384, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        bool drop = g.bits(offset + uint64_t(i)) < threshold;
        store_as<T, A>(op + i, drop ? A(0) : load_as<T, A>(xp + i) * scale);
      }
    });
  });
}

}  // namespace kiln::ops::cpu
