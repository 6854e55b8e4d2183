#pragma once
// A model named on a command line: a Hugging Face folder (config.json + safetensors), a .gguf
// file, or a preset name / .yaml path, which gets a seeded random init.
#include <memory>
#include <string>

#include "kiln/models/decoder.h"

namespace kiln::models {

bool is_hf_dir(const std::string& spec);
ModelConfig load_config(const std::string& spec);
// packed: a GGUF's quantized and half weights stay packed for inference (see load_gguf).
std::unique_ptr<Decoder> open_model(const std::string& spec, uint64_t seed = 0,
                                    DType dt = DType::F32, bool packed = true);

}  // namespace kiln::models
