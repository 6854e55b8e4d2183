// Matrix products through cuBLAS (strided-batched GEMM; a batch stride of 0 broadcasts). kiln's
// operands are row-major; cuBLAS is column-major, so out^T [N, M] = b^T a^T is what it computes.
// f32 runs in f32 (no TF32: results match the CPU's to f32 rounding), bf16/f16 multiply on the
// tensor cores with f32 accumulation and one rounding, f64 in f64.
#include <cublas_v2.h>

#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/kernel.h"
#include "kiln/ops/matmul.h"

namespace kiln::cuda {
namespace {

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw Error(str("cuBLAS error ", cublasGetStatusName(s), " (", cublasGetStatusString(s),
                    ") from ", what));
}

cublasHandle_t handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t hh;
    check(cublasCreate(&hh), "cublasCreate");
    check(cublasSetStream(hh, stream()), "cublasSetStream");
    return hh;
  }();
  return h;
}

struct Layout {
  cublasOperation_t op;  // as cuBLAS must read the row-major matrix to get its transpose
  int64_t ld;
};

// A row-major [rows, cols] view with unit stride in one dim (as the CPU backend's layout()).
Layout layout(const Tensor& m) {
  if (m.stride(-1) == 1 && (m.size(-2) == 1 || m.stride(-2) >= m.size(-1)))
    return {CUBLAS_OP_N, std::max<int64_t>(m.stride(-2), std::max<int64_t>(1, m.size(-1)))};
  return {CUBLAS_OP_T, std::max<int64_t>(m.stride(-1), std::max<int64_t>(1, m.size(-2)))};
}

cudaDataType_t cuda_type(DType t) {
  switch (t) {
    case DType::F32:
      return CUDA_R_32F;
    case DType::F64:
      return CUDA_R_64F;
    case DType::BF16:
      return CUDA_R_16BF;
    case DType::F16:
      return CUDA_R_16F;
    default:
      throw Error(str("matmul: unsupported dtype ", dtype_name(t), " on CUDA"));
  }
}

void gemm(const Tensor& a, const Tensor& b, const Tensor& out, float alpha, float beta) {
  int64_t B = out.size(0), M = out.size(1), N = out.size(2), K = a.size(2);
  if (B == 0 || M == 0 || N == 0) return;
  Layout la = layout(a), lb = layout(b);
  cudaDataType_t t = cuda_type(out.dtype());
  bool f64 = out.dtype() == DType::F64;
  double alpha64 = alpha, beta64 = beta;
  const void* pa = f64 ? static_cast<const void*>(&alpha64) : &alpha;
  const void* pb = f64 ? static_cast<const void*>(&beta64) : &beta;
  KILN_REQUIRE(M < (int64_t(1) << 31) && N < (int64_t(1) << 31) && K < (int64_t(1) << 31) &&
                   B < (int64_t(1) << 31),
               "matmul: dimensions beyond 2^31 are not supported on CUDA");
  check(cublasGemmStridedBatchedEx(
            handle(), lb.op, la.op, int(N), int(M), int(K), pa, b.raw_data(), t, int(lb.ld),
            b.stride(0), a.raw_data(), t, int(la.ld), a.stride(0), pb, out.raw_data(), t, int(N),
            M * N, int(B), f64 ? CUBLAS_COMPUTE_64F : CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmStridedBatchedEx");
}
KILN_REGISTER_CUDA_KERNEL(ops::gemm_kernel, gemm);

}  // namespace
}  // namespace kiln::cuda
