#include "kiln/core/storage.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <new>

#include "kiln/core/error.h"

namespace kiln {

namespace {

std::atomic<size_t> g_current[2];
std::atomic<size_t> g_peak[2];

void track_alloc(DeviceType t, size_t n) {
  size_t cur = g_current[int(t)].fetch_add(n) + n;
  size_t peak = g_peak[int(t)].load();
  while (cur > peak && !g_peak[int(t)].compare_exchange_weak(peak, cur)) {
  }
}

// Large blocks (>= 1 MiB) come from mmap in 2 MiB multiples with transparent huge pages asked
// for, and go back to a small cache when freed: a training step allocates the same sizes every
// step, and a fresh mapping would page-fault (and zero) every byte again each time. Small blocks
// use the C allocator.
class CpuAllocator final : public Allocator {
 public:
  static constexpr size_t kLarge = size_t(1) << 20, kPage = size_t(2) << 20;

  void* allocate(size_t nbytes) override {
    bool fresh;
    return take(nbytes, fresh);
  }

  // allocate + memset_zero, skipping the memset for a new anonymous mapping (zero already): zeros
  // never written then stay untouched, so a model built with zeros and then given weights that
  // view a mapped file never makes its placeholders resident.
  void* allocate_zeroed(size_t nbytes) {
    bool fresh;
    void* p = take(nbytes, fresh);
    if (!fresh) memset_zero(p, nbytes);  // a new anonymous mapping is zero already
    return p;
  }

  // fresh: the block is a new anonymous mapping, which the system hands out zeroed.
  void* take(size_t nbytes, bool& fresh) {
    fresh = false;
    if (nbytes < kLarge) {
      size_t rounded = (nbytes + 63) / 64 * 64;
      void* p = std::aligned_alloc(64, rounded ? rounded : 64);
      if (!p) throw Error(str("out of host memory allocating ", nbytes, " bytes"));
      return p;
    }
    size_t size = round_up(nbytes);
    {
      std::lock_guard<std::mutex> g(mu_);
      // The block of this size returned last: its pages are resident and likely still in
      // cache. An older one may be a mapping never written (a placeholder freed when a model's
      // weights came to view its file), whose first write faults and zeroes every page again:
      // taking blocks first-in-first-out cost a 512-token prefill a third of its time.
      auto [lo, hi] = cache_.equal_range(size);
      if (lo != hi) {
        auto it = std::prev(hi);
        void* p = it->second;
        cache_.erase(it);
        cached_ -= size;
        return p;
      }
    }
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      release_cache();  // the cache may be what stands in the way
      p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    if (p == MAP_FAILED) throw Error(str("out of host memory allocating ", nbytes, " bytes"));
    ::madvise(p, size, MADV_HUGEPAGE);
    fresh = true;
    return p;
  }

  void deallocate(void* p, size_t nbytes) override {
    if (nbytes < kLarge) {
      std::free(p);
      return;
    }
    size_t size = round_up(nbytes);
    std::lock_guard<std::mutex> g(mu_);
    while (cached_ + size > kCacheCap && !cache_.empty()) {  // evict the largest first
      auto last = std::prev(cache_.end());
      ::munmap(last->second, last->first);
      cached_ -= last->first;
      cache_.erase(last);
    }
    if (size <= kCacheCap) {
      cache_.emplace(size, p);
      cached_ += size;
    } else {
      ::munmap(p, size);
    }
  }

  void copy(void* dst, Device, const void* src, Device, size_t n) override {
    if (n) std::memcpy(dst, src, n);
  }
  void memset_zero(void* p, size_t n) override {
    if (n) std::memset(p, 0, n);
  }

  void release_cache() {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& [size, p] : cache_) ::munmap(p, size);
    cache_.clear();
    cached_ = 0;
  }

 private:
  static constexpr size_t kCacheCap = size_t(1) << 30;  // at most 1 GiB held back
  static size_t round_up(size_t n) { return (n + kPage - 1) / kPage * kPage; }
  std::mutex mu_;
  std::multimap<size_t, void*> cache_;
  size_t cached_ = 0;
};

CpuAllocator g_cpu;
Allocator* g_allocators[2] = {&g_cpu, nullptr};
int (*g_cuda_count)() = nullptr;
void (*g_cuda_sync)() = nullptr;

}  // namespace

std::string Device::str() const {
  return is_cpu() ? "cpu" : "cuda:" + std::to_string(index);
}

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    try {
      return cuda(std::stoi(s.substr(5)));
    } catch (const std::exception&) {
    }
  }
  throw Error(kiln::str("unknown device '", s, "' (expected cpu, cuda or cuda:N)"));
}

int cuda_device_count() {
  return g_cuda_count ? g_cuda_count() : 0;
}

void synchronize(Device d) {
  if (d.is_cuda() && g_cuda_sync) g_cuda_sync();
}

void register_cuda_hooks(int (*count)(), void (*sync)()) {
  g_cuda_count = count;
  g_cuda_sync = sync;
}

Allocator& allocator_for(Device d) {
  Allocator* a = g_allocators[int(d.type)];
  KILN_REQUIRE(a, "device ", d.str(),
               " is not available: kiln was built without CUDA (-DKILN_CUDA=ON)");
  return *a;
}

void register_allocator(DeviceType t, Allocator* a) {
  g_allocators[int(t)] = a;
}

void release_cached_memory() {
  g_cpu.release_cache();
}

MemoryStats memory_stats(DeviceType t) {
  return {g_current[int(t)].load(), g_peak[int(t)].load()};
}
void reset_peak_memory(DeviceType t) {
  g_peak[int(t)] = g_current[int(t)].load();
}

Storage::Storage(size_t nbytes, Device d, bool zero) : nbytes_(nbytes), device_(d) {
  Allocator& a = allocator_for(d);
  if (zero && &a == &g_cpu) {
    data_ = g_cpu.allocate_zeroed(nbytes);
  } else {
    data_ = a.allocate(nbytes);
    if (zero) a.memset_zero(data_, nbytes);
  }
  track_alloc(d.type, nbytes);
}

Storage::Storage(void* data, size_t nbytes, Device d, std::shared_ptr<void> keep_alive)
    : data_(data), nbytes_(nbytes), device_(d), owned_(false), keep_alive_(std::move(keep_alive)) {}

Storage::~Storage() {
  if (owned_ && data_) {
    allocator_for(device_).deallocate(data_, nbytes_);
    g_current[int(device_.type)].fetch_sub(nbytes_);
  }
}

}  // namespace kiln
