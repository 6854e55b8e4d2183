#include "kiln/core/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
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

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    size_t rounded = (nbytes + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded ? rounded : 64);
    if (!p) throw Error(str("out of host memory allocating ", nbytes, " bytes"));
    return p;
  }
  void deallocate(void* p, size_t) override { std::free(p); }
  void copy(void* dst, Device, const void* src, Device, size_t n) override {
    if (n) std::memcpy(dst, src, n);
  }
  void memset_zero(void* p, size_t n) override {
    if (n) std::memset(p, 0, n);
  }
};

CpuAllocator g_cpu;
Allocator* g_allocators[2] = {&g_cpu, nullptr};

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

Allocator& allocator_for(Device d) {
  Allocator* a = g_allocators[int(d.type)];
  KILN_REQUIRE(a, "device ", d.str(),
               " is not available: kiln was built without CUDA (-DKILN_CUDA=ON)");
  return *a;
}

void register_allocator(DeviceType t, Allocator* a) {
  g_allocators[int(t)] = a;
}

MemoryStats memory_stats(DeviceType t) {
  return {g_current[int(t)].load(), g_peak[int(t)].load()};
}
void reset_peak_memory(DeviceType t) {
  g_peak[int(t)] = g_current[int(t)].load();
}

Storage::Storage(size_t nbytes, Device d, bool zero) : nbytes_(nbytes), device_(d) {
  Allocator& a = allocator_for(d);
  data_ = a.allocate(nbytes);
  if (zero) a.memset_zero(data_, nbytes);
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
