// Feeds arbitrary bytes to the safetensors reader and reads every tensor it accepts: it must parse
// or throw kiln::Error, never read outside the buffer or abort.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kiln/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(data, data + size);
  try {
    auto f = kiln::io::SafetensorsFile::from_memory(bytes, "fuzz.safetensors");
    for (const std::string& name : f.names()) {
      kiln::Tensor t = f.get(name);
      volatile double sink =
          t.numel() > 0 ? t.reshape({-1}).narrow(0, 0, 1).to(kiln::DType::F64).item() : 0.0;
      (void)sink;
    }
  } catch (const kiln::Error&) {
  }
  return 0;
}
