#pragma once
// Storage: a reference-counted block of bytes on a device. It either owns its memory (taken from
// the device's Allocator, 64-byte aligned) or borrows it (a memory-mapped file), keeping the owner
// alive.
#include <cstddef>
#include <functional>
#include <memory>

#include "kiln/core/device.h"

namespace kiln {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* p, size_t nbytes) = 0;
  // Copies between host and this allocator's device (or within it).
  virtual void copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t n) = 0;
  virtual void memset_zero(void* p, size_t n) = 0;
};

// The allocator for a device. A CUDA backend registers its own at start-up.
Allocator& allocator_for(Device d);
void register_allocator(DeviceType t, Allocator* a);

// Bytes currently allocated and the peak since start (or since reset), per device type.
struct MemoryStats {
  size_t current = 0;
  size_t peak = 0;
};
MemoryStats memory_stats(DeviceType t);  // bytes in live tensors (cached blocks excluded)
// Returns the host allocator's cached large blocks to the system.
void release_cached_memory();
void reset_peak_memory(DeviceType t);

class Storage {
 public:
  // Owning storage of nbytes on device d; zeroed if zero is true.
  Storage(size_t nbytes, Device d, bool zero = false);
  // Borrowed storage: `keep_alive` owns the bytes (e.g. an mmap) and is released with the storage.
  Storage(void* data, size_t nbytes, Device d, std::shared_ptr<void> keep_alive);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  bool owned_ = true;
  std::shared_ptr<void> keep_alive_;
};

}  // namespace kiln
