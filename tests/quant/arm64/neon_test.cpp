// The NEON integer dot products (qdot.h) against the scalar reference on arm64, and the scalar
// reference against the dot product of the dequantized row within the 8-bit activation bound:
// the same checks as tests/quant/quant_matmul_test.cpp, without GoogleTest (not available for
// arm64 here). Exits non-zero on the first failure.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "kiln/quant/blocks.h"
#include "kiln/quant/qdot.h"

using namespace kiln;
using namespace kiln::quant;

int main() {
  if (!isa_supported(Isa::NEON) || best_isa() != Isa::NEON) {
    std::printf("FAIL: NEON not selected (best: %s)\n", isa_name(best_isa()));
    return 1;
  }
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.f, 1.f);
  int checks = 0;
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K}) {
    for (int64_t n : {256, 3072}) {
      const size_t len = static_cast<size_t>(n);
      std::vector<float> w(len), x(len), deq(len);
      for (float& v : w) v = dist(rng);
      for (float& v : x) v = dist(rng);
      std::vector<uint8_t> q(dtype_nbytes(t, n));
      quantize_row(t, w.data(), q.data(), n);
      dequantize_row(t, q.data(), deq.data(), n);
      std::vector<BlockQ8A> a(size_t(n / kActBlock));
      quantize_act(x.data(), a.data(), n);
      double exact = 0, mag = 0, bound = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += double(deq[size_t(i)]) * x[size_t(i)];
        mag += std::fabs(double(deq[size_t(i)]) * x[size_t(i)]);
        bound += std::fabs(deq[size_t(i)]) * a[size_t(i / kActBlock)].d / 2;
      }
      float ref = int_dot(t, Isa::Scalar)(q.data(), a.data(), n / kActBlock);
      float neon = int_dot(t, Isa::NEON)(q.data(), a.data(), n / kActBlock);
      bool ok = std::fabs(neon - ref) <= 1e-6 * mag && std::fabs(ref - exact) <= bound + 1e-5 * mag;
      std::printf("%s %-5s n=%-5lld neon %.6f scalar %.6f exact %.6f\n", ok ? "ok  " : "FAIL",
                  dtype_name(t), (long long)n, neon, ref, exact);
      if (!ok) return 1;
      ++checks;
    }
  }
  std::printf("quant NEON kernels: %d checks ok\n", checks);
  return 0;
}
