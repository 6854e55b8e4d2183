// The CUDA device allocator: a cache of freed blocks by rounded size, so that a training step,
// which frees and allocates the same sizes every step, does not call cudaMalloc (which
// synchronizes the device) after its first. All work runs on one stream, so a freed block can be
// reused at once. When cudaMalloc fails, the cache is returned to the driver and the allocation
// tried again; a second failure is an Error naming the size and what is in use.
#include <cuda_runtime.h>

#include <map>
#include <mutex>

#include "kiln/core/cuda/runtime.h"
#include "kiln/core/storage.h"

namespace kiln::cuda {

void fail(cudaError_t e, const char* what, const char* file, int line) {
  throw Error(str("CUDA error '", cudaGetErrorString(e), "' (", cudaGetErrorName(e), ") from ",
                  what, " at ", file, ":", line));
}

cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t st;
    KILN_CUDA_CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    return st;
  }();
  return s;
}

void synchronize() {
  KILN_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

namespace {

int device_count() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

class CudaAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    size_t size = round_up(nbytes);
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = cache_.find(size);
      if (it != cache_.end()) {
        void* p = it->second;
        cache_.erase(it);
        cached_ -= size;
        return p;
      }
    }
    if (device_count() == 0)
      throw Error("CUDA device requested but no GPU is visible (cudaGetDeviceCount found none)");
    void* p = nullptr;
    if (cudaMalloc(&p, size) != cudaSuccess) {
      (void)cudaGetLastError();  // clear the sticky out-of-memory error before retrying
      release();
      if (cudaMalloc(&p, size) != cudaSuccess) {
        (void)cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        throw Error(str("out of GPU memory allocating ", nbytes, " bytes (", free_b >> 20,
                        " MiB free of ", total_b >> 20, " MiB)"));
      }
    }
    return p;
  }

  void deallocate(void* p, size_t nbytes) override {
    std::lock_guard<std::mutex> g(mu_);
    cache_.emplace(round_up(nbytes), p);
    cached_ += round_up(nbytes);
  }

  void copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t n) override {
    if (!n) return;
    KILN_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, stream()));
    // A host destination is read as soon as this returns; a pageable host source is staged
    // before cudaMemcpyAsync returns, so only reads need the wait.
    if (dst_dev.is_cpu()) synchronize();
  }

  void memset_zero(void* p, size_t n) override {
    if (n) KILN_CUDA_CHECK(cudaMemsetAsync(p, 0, n, stream()));
  }

 private:
  // 512-byte granules below 1 MiB, 2 MiB above: few distinct sizes, little waste.
  static size_t round_up(size_t n) {
    size_t g = n < (size_t(1) << 20) ? 512 : (size_t(2) << 20);
    return n == 0 ? g : (n + g - 1) / g * g;
  }
  void release() {
    std::lock_guard<std::mutex> g(mu_);
    KILN_CUDA_CHECK(cudaStreamSynchronize(stream()));
    for (auto& [size, p] : cache_) cudaFree(p);
    cache_.clear();
    cached_ = 0;
  }

  std::mutex mu_;
  std::multimap<size_t, void*> cache_;
  size_t cached_ = 0;
};

// Registered at load; lives for the program (blocks are never returned at exit: the driver
// reclaims them, and a static destructor must not call into a runtime that may be gone).
struct Registration {
  Registration() {
    register_allocator(DeviceType::CUDA, new CudaAllocator);
    register_cuda_hooks(&device_count, &synchronize);
  }
} registration;

}  // namespace
}  // namespace kiln::cuda
