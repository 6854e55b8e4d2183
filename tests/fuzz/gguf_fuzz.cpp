// Feeds arbitrary bytes to GGUFReader and touches everything it returns: the reader must either
// parse or throw kiln::Error, never read outside the buffer (ASan watches) or abort.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kiln/io/gguf.h"

namespace {

void touch(const kiln::io::GGUFValue& v) {
  using kiln::io::GGUFType;
  volatile size_t sink = v.size();
  try {
    if (v.elem_type() == GGUFType::STRING) {
      if (v.is_array())
        for (const std::string& s : v.as_strings()) sink = sink + s.size();
      else
        sink = sink + v.as_string().size();
    } else if (v.is_array()) {
      sink = sink + v.as_floats().size();
      if (v.elem_type() != GGUFType::FLOAT32 && v.elem_type() != GGUFType::FLOAT64 &&
          v.elem_type() != GGUFType::BOOL)
        sink = sink + v.as_ints().size();
    } else if (v.elem_type() == GGUFType::BOOL) {
      sink = sink + v.as_bool();
    } else {
      sink = sink + (v.as_float() > 0);
    }
  } catch (const kiln::Error&) {  // a u64 past INT64_MAX refuses as_ints
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(data, data + size);
  try {
    auto r = kiln::io::GGUFReader::from_memory(bytes, "fuzz.gguf");
    for (const auto& [key, value] : r.metadata()) touch(value);
    for (const auto& info : r.tensors()) {
      kiln::Tensor t = r.tensor(info.name);
      const auto* p = static_cast<const uint8_t*>(t.raw_data());
      uint8_t x = 0;
      for (size_t i = 0; i < t.nbytes(); ++i) x ^= p[i];
      volatile uint8_t sink = x;
      (void)sink;
    }
  } catch (const kiln::Error&) {
  }
  return 0;
}
