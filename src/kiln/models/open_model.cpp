#include "kiln/models/open_model.h"

#include <filesystem>

#include "kiln/models/gguf_model.h"
#include "kiln/models/hf_checkpoint.h"

namespace kiln::models {

bool is_hf_dir(const std::string& spec) {
  return std::filesystem::is_regular_file(std::filesystem::path(spec) / "config.json");
}

ModelConfig load_config(const std::string& spec) {
  if (is_gguf_path(spec)) return gguf_config(io::GGUFReader(spec));
  if (is_hf_dir(spec))
    return load_hf_config((std::filesystem::path(spec) / "config.json").string());
  return load_preset(spec);
}

std::unique_ptr<Decoder> open_model(const std::string& spec, uint64_t seed, DType dt, bool packed) {
  if (is_gguf_path(spec)) return load_gguf(spec, dt, packed);
  if (is_hf_dir(spec)) {
    LoadOptions o;
    o.dtype = dt;
    return load_model(spec, o);
  }
  auto m = std::make_unique<Decoder>(load_preset(spec), dt);
  Generator g(seed);
  m->init_weights(g);
  return m;
}

}  // namespace kiln::models
