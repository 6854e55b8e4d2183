#include "kiln/ops/matmul.h"

#include "kiln/ops/binary.h"
#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<GemmFn> gemm_kernel{"gemm", &cpu::gemm};

namespace {

// A matrix view BLAS can take: unit stride in one of the last two dims.
Tensor blas_ready(const Tensor& m) {
  int64_t r = m.stride(-2), c = m.stride(-1);
  bool row_major = c == 1 && r >= std::max<int64_t>(1, m.size(-1));
  bool col_major = r == 1 && c >= std::max<int64_t>(1, m.size(-2));
  return row_major || col_major ? m : m.contiguous();
}

}  // namespace

void gemm(const Tensor& a, const Tensor& b, const Tensor& out, float alpha, float beta) {
  KILN_CHECK(a.dim() == 3 && b.dim() == 3 && out.dim() == 3 && out.is_contiguous(),
             "gemm: operands must be 3-D and out contiguous");
  KILN_CHECK(a.size(2) == b.size(1) && a.size(1) == out.size(1) && b.size(2) == out.size(2),
             "gemm: shapes");
  gemm_kernel.get(out.device())(blas_ready(a), blas_ready(b), out, alpha, beta);
}

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  check_defined("matmul", a_in, "a");
  check_defined("matmul", b_in, "b");
  check_same_device("matmul", a_in, b_in);
  check_same_dtype("matmul", a_in, b_in);
  check_float("matmul", a_in);
  KILN_REQUIRE(a_in.dim() >= 1 && b_in.dim() >= 1, "matmul: scalars are not matrices (shapes ",
               shape_str(a_in.sizes()), " and ", shape_str(b_in.sizes()), ")");
  bool a_vec = a_in.dim() == 1, b_vec = b_in.dim() == 1;
  Tensor a = a_vec ? a_in.unsqueeze(0) : a_in;
  Tensor b = b_vec ? b_in.unsqueeze(1) : b_in;
  KILN_REQUIRE(a.size(-1) == b.size(-2), "matmul: shapes ", shape_str(a_in.sizes()), " and ",
               shape_str(b_in.sizes()), " do not chain (", a.size(-1), " != ", b.size(-2), ")");
  int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  Shape abatch(a.sizes().begin(), a.sizes().end() - 2);
  Shape bbatch(b.sizes().begin(), b.sizes().end() - 2);
  Shape batch = broadcast_shapes(abatch, bbatch, "matmul");
  int64_t B = numel_of(batch);

  auto as3 = [&](const Tensor& t, int64_t rows, int64_t cols) {
    Shape full = batch;
    full.push_back(rows);
    full.push_back(cols);
    Tensor e = t.expand(full);
    // Collapse batch dims into one when their strides allow; otherwise copy.
    Tensor v = e.dim() == 2 ? e.unsqueeze(0) : e;
    if (v.dim() > 3) {
      bool ok = true;
      for (int64_t d = 0; d + 3 < v.dim(); ++d)
        ok &= v.stride(d) == v.stride(d + 1) * v.size(d + 1);
      if (!ok) v = v.contiguous();
      v = v.as_strided({B, rows, cols}, {v.stride(v.dim() - 3), v.stride(-2), v.stride(-1)},
                       v.offset());
    }
    return v;
  };
  Tensor out = Tensor::empty({B, M, N}, a.dtype(), a.device());
  gemm(as3(a, M, K), as3(b, K, N), out);
  Shape oshape = batch;
  if (!a_vec) oshape.push_back(M);
  if (!b_vec) oshape.push_back(N);
  return out.view(oshape);
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check_defined("linear", x, "x");
  check_defined("linear", w, "weight");
  KILN_REQUIRE(w.dim() == 2, "linear: weight must be 2-D [out, in], got ", shape_str(w.sizes()));
  KILN_REQUIRE(x.dim() >= 1 && x.size(-1) == w.size(1), "linear: input ", shape_str(x.sizes()),
               " does not match weight ", shape_str(w.sizes()), " (in_features ", w.size(1), ")");
  Tensor x2 = x.reshape({-1, x.size(-1)});
  Tensor y = matmul(x2, w.transpose(0, 1));
  if (bias.defined()) {
    KILN_REQUIRE(bias.dim() == 1 && bias.size(0) == w.size(0), "linear: bias ",
                 shape_str(bias.sizes()), " does not match out_features ", w.size(0));
    add_(y, bias);
  }
  Shape s = x.sizes();
  s.back() = w.size(0);
  return y.view(s);
}

}  // namespace kiln::ops
