#include "kiln/core/copy.h"

#include <cstring>

#include "kiln/core/dispatch.h"
#include "kiln/core/strided.h"
#include "kiln/core/thread_pool.h"

namespace kiln {

namespace {

template <class D, class S>
D convert(S v) {
  if constexpr (std::is_same_v<D, bf16> || std::is_same_v<D, f16>) {
    return D(float(v));
  } else if constexpr (std::is_same_v<S, bf16> || std::is_same_v<S, f16>) {
    return D(float(v));
  } else {
    return D(v);
  }
}

void cpu_copy(const Tensor& dst, const Tensor& src) {
  KILN_REQUIRE((!is_quantized(dst.dtype()) && !is_quantized(src.dtype())) ||
                   (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()),
               "copy: quantized tensors copy only whole and contiguous, to the same type");
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(), dst.nbytes());
    return;
  }
  visit_dtype(dst.dtype(), [&](auto dv) {
    using D = decltype(dv);
    visit_dtype(src.dtype(), [&](auto sv) {
      using S = decltype(sv);
      StridedLoop<2> loop(dst.sizes(), {dst.strides(), src.strides()});
      D* d0 = static_cast<D*>(dst.raw_data());
      const S* s0 = static_cast<const S*>(src.raw_data());
      auto is = loop.inner_strides();
      int64_t inner = loop.inner();
      parallel_for(loop.outer_count(), std::max<int64_t>(1, 32768 / inner),
                   [&](int64_t b, int64_t e) {
                     for (int64_t r = b; r < e; ++r) {
                       auto off = loop.offsets(r);
                       D* d = d0 + off[0];
                       const S* s = s0 + off[1];
                       for (int64_t i = 0; i < inner; ++i) d[i * is[0]] = convert<D>(s[i * is[1]]);
                     }
                   });
    });
  });
}

void cpu_fill(const Tensor& dst, double value) {
  visit_dtype(dst.dtype(), [&](auto dv) {
    using D = decltype(dv);
    D v = convert<D>(value);
    StridedLoop<1> loop(dst.sizes(), {dst.strides()});
    D* d0 = static_cast<D*>(dst.raw_data());
    int64_t inner = loop.inner(), is = loop.inner_strides()[0];
    for (int64_t r = 0; r < loop.outer_count(); ++r) {
      D* d = d0 + loop.offsets(r)[0];
      for (int64_t i = 0; i < inner; ++i) d[i * is] = v;
    }
  });
}

CopyFn g_copy[2] = {&cpu_copy, nullptr};
FillFn g_fill[2] = {&cpu_fill, nullptr};

}  // namespace

void register_copy_kernels(DeviceType t, CopyFn copy, FillFn fill) {
  g_copy[int(t)] = copy;
  g_fill[int(t)] = fill;
}

void copy_tensor(const Tensor& dst, const Tensor& src) {
  KILN_CHECK(dst.sizes() == src.sizes() && dst.device() == src.device(), "copy_tensor: mismatch");
  if (dst.numel() == 0) return;
  CopyFn f = g_copy[int(dst.device().type)];
  KILN_REQUIRE(f, "copy: no kernel for device ", dst.device().str());
  f(dst, src);
}

void fill_tensor(const Tensor& dst, double value) {
  if (dst.numel() == 0) return;
  FillFn f = g_fill[int(dst.device().type)];
  KILN_REQUIRE(f, "fill: no kernel for device ", dst.device().str());
  f(dst, value);
}

}  // namespace kiln
