#pragma once
// Hugging Face checkpoints: a folder with config.json and model.safetensors, or shards listed by
// model.safetensors.index.json. Loading memory-maps the files and casts f32/bf16/f16 tensors to the
// compute dtype; saving writes what transformers loads with AutoModelForCausalLM and no custom
// code (config.json, generation_config.json, model.safetensors or shards + index).
#include <memory>
#include <string>

#include "kiln/models/decoder.h"

namespace kiln::models {

struct LoadOptions {
  DType dtype = DType::F32;  // compute dtype of the model
  // Parameters whose file dtype is `dtype` point into the read-only mapping instead of being
  // copied, and do not require grad: for inference only (an in-place update would fault).
  bool zero_copy = false;
};

// Reads config.json and the weights. Throws kiln::Error naming the file, field or tensor (a
// missing tensor, a shape or dtype that does not match, an unknown architecture or tensor).
std::unique_ptr<Decoder> load_model(const std::string& dir, const LoadOptions& opt = {});
// Loads a checkpoint's weights into a model built from the same config. Accepts MoE experts per
// expert (mlp.experts.E.gate_proj...) or fused as transformers 5.x writes them
// (mlp.experts.gate_up_proj [E, 2I, D], mlp.experts.down_proj [E, D, I]).
void load_hf_weights(Decoder& m, const std::string& dir, const LoadOptions& opt = {});

struct SaveOptions {
  DType dtype = DType::F32;                    // of the written tensors (f32, bf16 or f16)
  int64_t max_shard_bytes = int64_t(5) << 30;  // larger checkpoints are split into shards
};
// Writes per-expert MoE names. Weight files of an earlier save that the new ones replace are
// removed so transformers cannot pick up a stale one.
void save_hf(const Decoder& m, const std::string& dir, const SaveOptions& opt = {});

}  // namespace kiln::models
