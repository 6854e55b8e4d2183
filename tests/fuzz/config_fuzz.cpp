// Feeds arbitrary bytes as a Hugging Face config.json: parsing must succeed or throw kiln::Error
// naming the field, never crash; an accepted config must also validate or throw.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "kiln/models/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    kiln::models::ModelConfig c = kiln::models::parse_hf_config(j, "fuzz/config.json");
    kiln::models::validate(c);
  } catch (const kiln::Error&) {
  }
  return 0;
}
