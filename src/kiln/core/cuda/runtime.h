#pragma once
// The CUDA runtime as the backend uses it: every call checked (a failure throws kiln::Error naming
// the call, the CUDA error and where), one stream that all kernels and copies are ordered on, and
// the launch-error check that follows every kernel launch. Included only by .cu files.
#include <cuda_runtime.h>

#include "kiln/core/error.h"

namespace kiln::cuda {

[[noreturn]] void fail(cudaError_t e, const char* what, const char* file, int line);

// The one stream of the backend. Work on it runs in issue order, so memory freed to the caching
// allocator may be handed out again at once: a later kernel cannot overtake an earlier one.
cudaStream_t stream();

// Waits for every kernel issued so far (timings, host reads).
void synchronize();

}  // namespace kiln::cuda

#define KILN_CUDA_CHECK(expr)                                        \
  do {                                                               \
    cudaError_t kiln_cuda_err_ = (expr);                             \
    if (kiln_cuda_err_ != cudaSuccess)                               \
      ::kiln::cuda::fail(kiln_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)

// After each <<<...>>>: a bad launch configuration shows up here, not at some later call.
#define KILN_CUDA_LAUNCHED() KILN_CUDA_CHECK(cudaGetLastError())
