#pragma once
// Where a tensor's bytes live. CPU today; CUDA devices when built with KILN_CUDA.
#include <string>

namespace kiln {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device&) const = default;
  std::string str() const;
  // Parses "cpu", "cuda", "cuda:1". Throws kiln::Error otherwise.
  static Device parse(const std::string& s);
};

// GPUs usable now: 0 when kiln was built without CUDA or the machine has none.
int cuda_device_count();
// Waits until the work issued to the device so far is done (timings); nothing to wait for on CPU.
void synchronize(Device d);
// The CUDA backend registers how to count GPUs and wait for them; the CPU-only build never does.
void register_cuda_hooks(int (*count)(), void (*sync)());

}  // namespace kiln
