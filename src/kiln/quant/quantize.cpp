#include "kiln/quant/quantize.h"

#include <atomic>
#include <cmath>

#include "kiln/core/thread_pool.h"
#include "kiln/quant/blocks.h"

namespace kiln::quant {

namespace {

// The row length (last dimension); throws naming `op` when it is not whole blocks.
int64_t row_length(const Shape& s, DType qt, const char* op) {
  KILN_REQUIRE(!s.empty(), op, ": needs a tensor of rank >= 1, got a scalar");
  int64_t cols = s.back();
  int64_t block = dtype_info(qt).block_elems;
  KILN_REQUIRE(cols % block == 0, op, ": last dimension of shape ", shape_str(s), " is ", cols,
               ", not a multiple of the ", dtype_name(qt), " block size ", block);
  return cols;
}

}  // namespace

Tensor quantize(const Tensor& x, DType type) {
  KILN_REQUIRE(is_quantized(type), "quantize: target ", dtype_name(type),
               " is not a block type (expected q8_0, q4_0 or q4_k)");
  KILN_REQUIRE(is_float(x.dtype()), "quantize: input is ", dtype_name(x.dtype()),
               ", expected a floating dtype");
  KILN_REQUIRE(x.device().is_cpu(), "quantize: input is on ", x.device().str(),
               ", expected the CPU");
  const int64_t cols = row_length(x.sizes(), type, "quantize");
  const int64_t rows = cols == 0 ? 0 : x.numel() / cols;
  Tensor src = x.to(DType::F32).contiguous();
  Tensor out = Tensor::empty(x.sizes(), type);
  const float* in = src.data<float>();
  auto* dst = static_cast<uint8_t*>(out.raw_data());
  size_t row_bytes = dtype_nbytes(type, cols);
  // Workers cannot throw, so a non-finite value is noted (first row wins) and reported after.
  std::atomic<int64_t> bad_row{rows};
  parallel_for(rows, 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* row = in + r * cols;
      bool finite = true;
      for (int64_t i = 0; i < cols; ++i) finite = finite && std::isfinite(row[i]);
      if (finite) {
        quantize_row(type, row, dst + size_t(r) * row_bytes, cols);
      } else {
        int64_t cur = bad_row.load();
        while (r < cur && !bad_row.compare_exchange_weak(cur, r)) {
        }
      }
    }
  });
  KILN_REQUIRE(bad_row.load() == rows, "quantize: row ", bad_row.load(), " of shape ",
               shape_str(x.sizes()), " holds a non-finite value");
  return out;
}

Tensor dequantize(const Tensor& q, DType out) {
  KILN_REQUIRE(is_quantized(q.dtype()), "dequantize: input is ", dtype_name(q.dtype()),
               ", expected q8_0, q4_0 or q4_k");
  KILN_REQUIRE(is_float(out), "dequantize: output dtype ", dtype_name(out),
               " is not a floating dtype");
  KILN_REQUIRE(q.device().is_cpu(), "dequantize: input is on ", q.device().str(),
               ", expected the CPU");
  KILN_REQUIRE(q.is_contiguous(), "dequantize: input of shape ", shape_str(q.sizes()),
               " is not contiguous");
  const int64_t cols = row_length(q.sizes(), q.dtype(), "dequantize");
  const int64_t rows = cols == 0 ? 0 : q.numel() / cols;
  Tensor y = Tensor::empty(q.sizes(), DType::F32);
  const auto* src = static_cast<const uint8_t*>(q.raw_data());
  float* dst = y.data<float>();
  size_t row_bytes = dtype_nbytes(q.dtype(), cols);
  parallel_for(rows, 16, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      dequantize_row(q.dtype(), src + size_t(r) * row_bytes, dst + r * cols, cols);
  });
  return y.to(out);
}

}  // namespace kiln::quant
