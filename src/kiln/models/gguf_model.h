#pragma once
// Decoders in GGUF, the file format of llama.cpp, with llama.cpp's metadata keys and tensor names
// for the architectures llama, qwen2, qwen3 and qwen3moe, so llama.cpp runs what kiln writes and
// kiln loads what llama.cpp's converter writes.
//
// Two llama.cpp conventions shape the tensors:
// - arch "llama" rotates interleaved pairs (x0, x1), (x2, x3), ... while Hugging Face (and kiln)
//   rotate the two halves of each head, so the rows of attn_q and attn_k (weights and biases)
//   are reordered per head on write and back on load. qwen2/qwen3 use the half rotation in
//   llama.cpp too (its NEOX mode) and are stored as they are.
// - MoE experts are stacked: ffn_gate_exps [n_expert, ff, d] (ggml: ne = {d, ff, n_expert}).
//
// Llama-3 RoPE scaling travels as llama.cpp's rope_freqs.weight tensor (gguf_rope_freqs.h).
// Variants llama.cpp's architectures cannot express (sliding windows, dynamic RoPE, a
// LayerNorm, a non-gated MLP, shared experts, unnormalised top-k MoE weights, ...) are refused on
// write with an error naming the field.
#include <memory>
#include <string>

#include "kiln/io/gguf.h"
#include "kiln/models/decoder.h"

namespace kiln::models {

struct GgufSaveOptions {
  // Type of the matrices: f32, f16, bf16, q8_0, q4_0 or q4_k. Norms and other 1-D tensors and the
  // MoE router stay f32 (as llama.cpp keeps them); a matrix whose rows are not a whole number of
  // blocks is written f16.
  DType type = DType::F32;
};

// The ggml type a tensor of this shape is written with under `type`.
DType gguf_tensor_type(const Shape& shape, DType type);

// Sets general.* and <arch>.* keys for `c`; throws kiln::Error naming a field GGUF cannot hold.
void write_gguf_config(const ModelConfig& c, io::GGUFWriter& w, DType type = DType::F32);
// The config from a file's metadata; throws naming a missing key, an unknown architecture, or a
// value out of range.
ModelConfig gguf_config(const io::GGUFReader& r);

// Adds the config's keys and every weight to `w` (the caller may add tokenizer.ggml.* keys).
void add_gguf_model(const Decoder& m, io::GGUFWriter& w, const GgufSaveOptions& opt = {});
void save_gguf(const Decoder& m, const std::string& path, const GgufSaveOptions& opt = {});

// Builds the model from a GGUF file, dequantizing block-quantized weights to `dt`. Throws naming
// the tensor for a missing or unexpected tensor and the expected and found shape for a wrong one.
// packed (with dt f32): Linear, LM-head and embedding weights stored as Q8_0, Q4_0, Q4_K, F16 or
// BF16 stay so, viewing the mapped file, for inference (kiln/quant/matmul.h); otherwise every
// weight is expanded to dt, as training needs.
std::unique_ptr<Decoder> load_gguf(const std::string& path, DType dt = DType::F32,
                                   bool packed = true);
std::unique_ptr<Decoder> load_gguf(const io::GGUFReader& r, DType dt = DType::F32,
                                   bool packed = true);

// A path ending in .gguf (any case).
bool is_gguf_path(const std::string& path);

}  // namespace kiln::models
