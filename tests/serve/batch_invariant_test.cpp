// The batch-invariant product: each row of x w^T is bit-identical whether computed alone or among
// other rows, and agrees with BLAS to rounding.
#include <gtest/gtest.h>

#include "kiln/core/rng.h"
#include "kiln/ops/matmul.h"
#include "tiny_models.h"

namespace kiln::ops {
namespace {

Tensor randn(const Shape& s, Generator& g) {
  Tensor t = Tensor::empty(s);
  normal_(t, 0, 1, g);
  return t;
}

using models::test::max_abs_diff;

TEST(BatchInvariant, RowsDoNotDependOnTheBatch) {
  Generator g(5);
  for (int64_t K : {7, 64, 100, 257}) {
    int64_t N = 37;
    Tensor w = randn({N, K}, g), x = randn({33, K}, g);
    Tensor blas = linear(x, w);
    BatchInvariantGuard guard;
    Tensor all = linear(x, w);
    EXPECT_LT(max_abs_diff(all, blas), 1e-4 * std::sqrt(double(K))) << "K " << K;
    for (int64_t m : {0, 5, 32}) {
      std::vector<float> alone = linear(x.narrow(0, m, 1), w).to_vector<float>();
      std::vector<float> among = all.select(0, m).to_vector<float>();
      EXPECT_EQ(alone, among) << "K " << K << " row " << m;  // bitwise, not approximately
      for (int64_t b : {2, 3, 4, 6, 9}) {  // tiles of 1-3 rows, and two column blocks at once
        if (m + b > 33) continue;
        std::vector<float> part = linear(x.narrow(0, m, b), w).select(0, 0).to_vector<float>();
        EXPECT_EQ(part, alone) << "K " << K << " row " << m << " in a batch of " << b;
      }
    }
  }
}

}  // namespace
}  // namespace kiln::ops
