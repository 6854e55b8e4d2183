// Dropout, concat and the optimizer updates on the GPU: each a flat loop over elements.
// Dropout draws the same Philox-4x32-10 words as the CPU (kiln/core/rng.cpp), so a mask depends
// only on (seed, offset), never on the device. The optimizer updates run one launch per tensor,
// with AdamW's bias corrections folded into two scalars on the host as the CPU backend does.
#include <cmath>

#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/dropout.h"
#include "kiln/ops/kernel.h"
#include "kiln/ops/optim.h"
#include "kiln/ops/shape.h"

namespace kiln::cuda {
namespace {

__device__ uint32_t philox_word(uint64_t c, uint64_t key) {
  uint64_t counter = c >> 2;
  uint32_t x[4] = {uint32_t(counter), uint32_t(counter >> 32), 0, 0};
  uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0 = __umulhi(0xD2511F53u, x[0]), lo0 = 0xD2511F53u * x[0];
    uint32_t hi1 = __umulhi(0xCD9E8D57u, x[2]), lo1 = 0xCD9E8D57u * x[2];
    uint32_t n0 = hi1 ^ x[1] ^ k0, n2 = hi0 ^ x[3] ^ k1;
    x[0] = n0, x[1] = lo1, x[2] = n2, x[3] = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  switch (c & 3) {
    case 0:
      return x[0];
    case 1:
      return x[1];
    case 2:
      return x[2];
    default:
      return x[3];
  }
}

template <class T>
__global__ void dropout_k(const T* x, T* o, uint64_t seed, uint64_t offset, uint64_t threshold,
                          double scale, int64_t n) {
  using A = acc_t<T>;
  KILN_CUDA_FOR(i, n) {
    bool drop = philox_word(offset + uint64_t(i), seed) < threshold;
    store(o + i, drop ? A(0) : load<A>(x + i) * A(scale));
  }
}

void dropout(const Tensor& x, double p, uint64_t seed, uint64_t offset, const Tensor& out) {
  int64_t n = out.numel();
  if (n == 0) return;
  // p = 1 gives 2^32, above every word: all dropped, and the infinite scale is never used.
  uint64_t threshold = uint64_t(std::ldexp(p, 32));
  visit_float(x.dtype(), "dropout", [&](auto v) {
    using T = decltype(v);
    dropout_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<T>(x), ptr<T>(out), seed, offset, threshold,
                                                    1.0 / (1.0 - p), n);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::dropout_kernel, dropout);

// Each input is `outer` runs of size(dim) * inner elements, laid side by side in each output row:
// one 2-D copy per input.
void concat(const std::vector<Tensor>& xs, int64_t dim, const Tensor& out) {
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < dim; ++k) outer *= out.size(k);
  for (int64_t k = dim + 1; k < out.dim(); ++k) inner *= out.size(k);
  size_t esize = dtype_nbytes(out.dtype(), 1), row = size_t(out.size(dim) * inner) * esize, at = 0;
  for (const Tensor& x : xs) {
    size_t run = size_t(x.size(dim) * inner) * esize;
    if (run && outer)
      KILN_CUDA_CHECK(cudaMemcpy2DAsync(static_cast<char*>(out.raw_data()) + at, row, x.raw_data(),
                                        run, run, size_t(outer), cudaMemcpyDeviceToDevice,
                                        stream()));
    at += run;
  }
}
KILN_REGISTER_CUDA_KERNEL(ops::concat_kernel, concat);

struct AdamArgs {
  float b1, b2, eps, decay, step_size, inv_bc2_sqrt;
};

__global__ void adamw_k(float* p, const float* g, float* m, float* v, AdamArgs a, int64_t n) {
  KILN_CUDA_FOR(i, n) {
    float gi = g[i];
    float mi = a.b1 * m[i] + (1.f - a.b1) * gi;
    float vi = a.b2 * v[i] + (1.f - a.b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * a.decay - a.step_size * mi / (sqrtf(vi) * a.inv_bc2_sqrt + a.eps);
  }
}

void adamw_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                  const ops::AdamWStep& s) {
  int64_t n = p.numel();
  if (n == 0) return;
  AdamArgs a{float(s.beta1),
             float(s.beta2),
             float(s.eps),
             float(1.0 - s.lr * s.weight_decay),
             float(s.lr / (1.0 - std::pow(s.beta1, double(s.step)))),
             float(1.0 / std::sqrt(1.0 - std::pow(s.beta2, double(s.step))))};
  adamw_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<float>(p), ptr<float>(g), ptr<float>(m),
                                                ptr<float>(v), a, n);
  KILN_CUDA_LAUNCHED();
}
KILN_REGISTER_CUDA_KERNEL(ops::adamw_kernel, adamw_update);

__global__ void momentum_k(float* p, const float* g, float* buf, float lr, float mu, bool nesterov,
                           float decay, int64_t n) {
  KILN_CUDA_FOR(i, n) {
    float bi = mu * buf[i] + g[i];
    buf[i] = bi;
    p[i] = p[i] * decay - lr * (nesterov ? g[i] + mu * bi : bi);
  }
}

void momentum_update(const Tensor& p, const Tensor& g, const Tensor& buf, double lr,
                     double momentum, bool nesterov, double weight_decay) {
  int64_t n = p.numel();
  if (n == 0) return;
  momentum_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<float>(p), ptr<float>(g), ptr<float>(buf),
                                                   float(lr), float(momentum), nesterov,
                                                   float(1.0 - lr * weight_decay), n);
  KILN_CUDA_LAUNCHED();
}
KILN_REGISTER_CUDA_KERNEL(ops::momentum_kernel, momentum_update);

}  // namespace
}  // namespace kiln::cuda
