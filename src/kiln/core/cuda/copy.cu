// Strided, dtype-converting copy and fill on the GPU: what contiguous(), to(dtype), clone() and
// fill_() need there. A same-dtype copy between contiguous tensors is one cudaMemcpyAsync; a
// same-dtype strided one whose rows are contiguous (a transpose of heads and positions) moves
// 16-byte vectors.
#include "kiln/core/copy.h"
#include "kiln/core/cuda/common.cuh"

namespace kiln::cuda {
namespace {

template <class D, class S>
__global__ void copy_k(D* d, const S* s, Indexer<2> ix, int64_t n) {
  KILN_CUDA_FOR(i, n) {
    int64_t off[2];
    ix.offsets(i, off);
    using A = std::conditional_t<
        std::is_same_v<S, double> || std::is_same_v<D, double>, double,
        std::conditional_t<std::is_integral_v<S> && std::is_integral_v<D>, int64_t, float>>;
    store(d + off[0], load<A>(s + off[1]));
  }
}

__global__ void copy_vec_k(uint4* d, const uint4* s, Indexer<2> ix, int64_t n) {
  KILN_CUDA_FOR(i, n) {
    int64_t off[2];
    ix.offsets(i, off);
    d[off[0]] = s[off[1]];
  }
}

template <class D>
__global__ void fill_k(D* d, D v, Indexer<1> ix, int64_t n) {
  KILN_CUDA_FOR(i, n) {
    int64_t off[1];
    ix.offsets(i, off);
    d[off[0]] = v;
  }
}

void copy(const Tensor& dst, const Tensor& src) {
  KILN_REQUIRE(!is_quantized(dst.dtype()) && !is_quantized(src.dtype()),
               "copy: quantized tensors are not supported on CUDA");
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    KILN_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), dst.nbytes(),
                                    cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  const Tensor* ts[2] = {&dst, &src};
  auto ix = make_indexer<2>(dst.sizes(), ts);
  int64_t n = dst.numel();
  if (n == 0) return;
  if (dst.dtype() == src.dtype() && vectorize(ix, ts, dtype_info(dst.dtype()).block_bytes)) {
    int64_t nv = n / int64_t(16 / dtype_info(dst.dtype()).block_bytes);
    copy_vec_k<<<grid_for(nv), kBlock, 0, stream()>>>(
        static_cast<uint4*>(dst.raw_data()), static_cast<const uint4*>(src.raw_data()), ix, nv);
    KILN_CUDA_LAUNCHED();
    return;
  }
  visit_dtype(dst.dtype(), [&](auto dv) {
    visit_dtype(src.dtype(), [&](auto sv) {
      using D = decltype(dv);
      using S = decltype(sv);
      copy_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<D>(dst), ptr<S>(src), ix, n);
      KILN_CUDA_LAUNCHED();
    });
  });
}

void fill(const Tensor& dst, double value) {
  const Tensor* ts[1] = {&dst};
  auto ix = make_indexer<1>(dst.sizes(), ts);
  int64_t n = dst.numel();
  visit_dtype(dst.dtype(), [&](auto dv) {
    using D = decltype(dv);
    D host = D(value);  // kiln's own rounding, as the CPU fill
    dev_t<D> v;
    std::memcpy(static_cast<void*>(&v), &host, sizeof v);
    fill_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<D>(dst), v, ix, n);
    KILN_CUDA_LAUNCHED();
  });
}

struct Registration {
  Registration() { register_copy_kernels(DeviceType::CUDA, &copy, &fill); }
} registration;

}  // namespace
}  // namespace kiln::cuda
