// Sum, mean and max over a set of dims on the GPU. Sum/mean: a block walks an output's reduced
// sub-tensor (block-wide tree in the accumulation type); when there are few outputs and long
// reductions (a whole-tensor sum: a gradient's squared norm) each output's elements are split
// into fixed chunks, a block per chunk, and the chunk sums added in order by a second kernel, so
// the whole GPU works and the result does not vary. Max keeps
// the first maximum's index (a NaN is the maximum, as torch.max), so it runs one thread per output
// element.
#include <algorithm>

#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/kernel.h"
#include "kiln/ops/reduce.h"

namespace kiln::cuda {
namespace {

using ops::ReduceOp;

// Block (output, chunk) sums chunk `blockIdx.y` of an output's reduced elements (keep: out's
// offset and x's base offset per output; red: offsets inside one). With one chunk it writes the
// output itself; with several, part[output][chunk], which sum_finish_k adds in order.
template <class T>
__global__ void sum_k(bool mean, const T* x, T* o, double* part, Indexer<2> keep, Indexer<1> red,
                      int64_t m, int64_t chunk) {
  using A = double;  // as on the CPU: sums are not the hot path, accuracy is
  int64_t off[2];
  keep.offsets(blockIdx.x, off);
  int64_t j0 = int64_t(blockIdx.y) * chunk, j1 = j0 + chunk < m ? j0 + chunk : m;
  A s = A(0);
  for (int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
    int64_t r[1];
    red.offsets(j, r);
    s += load<A>(x + off[1] + r[0]);
  }
  s = block_sum(s);
  if (threadIdx.x != 0) return;
  if (part)
    part[int64_t(blockIdx.x) * gridDim.y + blockIdx.y] = s;
  else
    store(o + off[0], mean ? s / A(m) : s);
}

// Each output's chunk sums in chunk order.
template <class T>
__global__ void sum_finish_k(bool mean, const double* part, int64_t chunks, T* o, Indexer<2> keep,
                             int64_t m, int64_t n) {
  KILN_CUDA_FOR(i, n) {
    int64_t off[2];
    keep.offsets(i, off);
    double s = 0;
    for (int64_t c = 0; c < chunks; ++c) s += part[i * chunks + c];
    store(o + off[0], mean ? s / double(m) : s);
  }
}

template <class T>
__global__ void max_k(const T* x, T* o, int64_t* idx, Indexer<3> keep, int64_t m, int64_t stride,
                      int64_t n) {
  using A = acc_t<T>;
  KILN_CUDA_FOR(i, n) {
    int64_t off[3];
    keep.offsets(i, off);
    A best = load<A>(x + off[1]);
    int64_t bi = 0;
    for (int64_t j = 1; j < m; ++j) {
      A v = load<A>(x + off[1] + j * stride);
      if (v > best || (v != v && best == best)) {  // NaN is the maximum, as torch.max
        best = v;
        bi = j;
      }
    }
    store(o + off[0], best);
    idx[off[2]] = bi;
  }
}

void reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, const Tensor& out,
            const Tensor& indices) {
  Shape keep_shape = x.sizes(), red_shape;
  Shape red_strides;
  int64_t m = 1;
  for (int64_t d : dims) {
    keep_shape[d] = 1;
    red_shape.push_back(x.size(d));
    red_strides.push_back(x.stride(d));
    m *= x.size(d);
  }
  int64_t n = out.numel();
  if (n == 0) return;
  visit_float(x.dtype(), "reduce", [&](auto v) {
    using T = decltype(v);
    if (op == ReduceOp::Max) {
      KILN_REQUIRE(dims.size() == 1, "max reduces exactly one dim");
      const Tensor* ts[3] = {&out, &x, &indices};
      auto keep = make_indexer<3>(keep_shape, ts);
      max_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<T>(x), ptr<T>(out), ptr<int64_t>(indices),
                                                  keep, m, x.stride(dims[0]), n);
    } else {
      if (m == 0) {
        fill_tensor(out, op == ReduceOp::Mean ? NAN : 0.0);
        return;
      }
      const Tensor* ts[2] = {&out, &x};
      auto keep = make_indexer<2>(keep_shape, ts);
      Tensor red = x.as_strided(red_shape, red_strides, 0);
      const Tensor* rs[1] = {&red};
      auto redix = make_indexer<1>(red_shape, rs);
      KILN_REQUIRE(n < (int64_t(1) << 31), "reduce: too many outputs for one CUDA grid");
      bool mean = op == ReduceOp::Mean;
      // Chunks of at least 16K elements, and about a thousand blocks in all.
      int64_t chunks = std::min<int64_t>((m + 16383) / 16384, std::max<int64_t>(1, 1024 / n));
      int64_t chunk = (m + chunks - 1) / chunks;
      chunks = (m + chunk - 1) / chunk;
      Tensor part;
      if (chunks > 1) part = Tensor::empty({n, chunks}, DType::F64, x.device());
      auto* pp = chunks > 1 ? static_cast<double*>(part.raw_data()) : nullptr;
      sum_k<<<dim3(unsigned(n), unsigned(chunks)), 256, 0, stream()>>>(mean, ptr<T>(x), ptr<T>(out),
                                                                       pp, keep, redix, m, chunk);
      if (pp) {
        KILN_CUDA_LAUNCHED();
        sum_finish_k<<<grid_for(n), kBlock, 0, stream()>>>(mean, pp, chunks, ptr<T>(out), keep, m,
                                                           n);
      }
    }
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::reduce_kernel, reduce);

}  // namespace
}  // namespace kiln::cuda
