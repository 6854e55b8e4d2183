// Decoder weights <-> GGUF tensors: llama.cpp's names (llama-arch.cpp's LLM_TENSOR names), the
// llama q/k row order, stacked experts, and the per-tensor type choice on write.
#include "kiln/models/gguf_model.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "kiln/models/families.h"
#include "kiln/models/gguf_rope_freqs.h"
#include "kiln/quant/matmul.h"
#include "kiln/quant/quantize.h"

namespace kiln::models {

namespace {

// One GGUF tensor and the parameters it holds: one, or one per expert (stacked on dim 0).
struct GgufTensor {
  std::string name;
  std::vector<std::string> params;
  int64_t rope_heads = 0;  // > 0: llama q/k rows reordered within each of this many heads
};

// HF module paths inside a layer -> GGUF names inside blk.N.
const std::map<std::string, std::string>& layer_names() {
  static const std::map<std::string, std::string> m = {
      {"self_attn.q_proj", "attn_q"},      {"self_attn.k_proj", "attn_k"},
      {"self_attn.v_proj", "attn_v"},      {"self_attn.o_proj", "attn_output"},
      {"self_attn.q_norm", "attn_q_norm"}, {"self_attn.k_norm", "attn_k_norm"},
      {"input_layernorm", "attn_norm"},    {"post_attention_layernorm", "ffn_norm"},
      {"mlp.gate_proj", "ffn_gate"},       {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"},       {"mlp.gate", "ffn_gate_inp"},
  };
  return m;
}

// The GGUF tensors of a model, in parameter order (experts grouped where the first one appears).
// Throws naming a parameter that has no GGUF name.
std::vector<GgufTensor> gguf_tensors(const Decoder& m) {
  const ModelConfig& c = m.config();
  bool llama = family_by_model_type(c.model_type).gguf_arch == "llama";
  static const std::regex layer_re(R"(model\.layers\.(\d+)\.(.+)\.(weight|bias))");
  static const std::regex expert_re(R"(mlp\.experts\.(\d+)\.(gate|up|down)_proj)");
  std::vector<GgufTensor> out;
  std::map<std::string, size_t> stacked;  // GGUF name -> index in out
  for (const nn::NamedParam& p : m.named_parameters()) {
    if (p.name == hf_names::embed()) {
      out.push_back({"token_embd.weight", {p.name}});
      continue;
    }
    if (p.name == hf_names::final_norm()) {
      out.push_back({"output_norm.weight", {p.name}});
      continue;
    }
    if (p.name == hf_names::lm_head()) {
      out.push_back({"output.weight", {p.name}});
      continue;
    }
    std::smatch lm, em;
    KILN_REQUIRE(std::regex_match(p.name, lm, layer_re), "GGUF: parameter ", p.name,
                 " has no GGUF tensor name");
    std::string blk = "blk." + lm[1].str() + ".", module = lm[2].str(), kind = lm[3].str();
    if (std::regex_match(module, em, expert_re)) {
      std::string name = blk + "ffn_" + em[2].str() + "_exps." + kind;
      auto [it, fresh] = stacked.emplace(name, out.size());
      if (fresh) out.push_back({name, {}});
      out[it->second].params.push_back(p.name);
      continue;
    }
    auto it = layer_names().find(module);
    KILN_REQUIRE(it != layer_names().end(), "GGUF: parameter ", p.name, " has no GGUF tensor name");
    int64_t heads = 0;
    if (llama && module == "self_attn.q_proj") heads = c.num_attention_heads;
    if (llama && module == "self_attn.k_proj") heads = c.num_key_value_heads;
    out.push_back({blk + it->second + "." + kind, {p.name}, heads});
  }
  return out;
}

// Rows of each head from Hugging Face's halves order [first halves..., second halves...] to
// llama.cpp's interleaved pairs [x0, x_{d/2}, x1, x_{d/2+1}, ...] (to_gguf), or back.
Tensor reorder_rope_rows(const Tensor& t, int64_t heads, bool to_gguf) {
  Shape s = t.sizes();
  int64_t half = s[0] / heads / 2;
  KILN_CHECK(half * 2 * heads == s[0]);
  Shape split{heads, to_gguf ? 2 : half, to_gguf ? half : 2};
  split.insert(split.end(), s.begin() + 1, s.end());
  return t.contiguous().reshape(split).transpose(1, 2).contiguous().reshape(s);
}

bool is_stacked(const GgufTensor& g) {
  return g.name.find("_exps.") != std::string::npos;
}

Tensor stacked_param(const GgufTensor& g, const std::map<std::string, Tensor*>& params) {
  if (!is_stacked(g)) return params.at(g.params[0])->detach();
  std::vector<Tensor> parts;
  for (const std::string& p : g.params) parts.push_back(params.at(p)->detach().unsqueeze(0));
  Shape s = parts[0].sizes();
  s[0] = int64_t(parts.size());
  Tensor out = Tensor::empty(s, parts[0].dtype());
  for (size_t e = 0; e < parts.size(); ++e) out.narrow(0, int64_t(e), 1).copy_(parts[e]);
  return out;
}

std::map<std::string, Tensor*> param_map(const Decoder& m) {
  std::map<std::string, Tensor*> out;
  for (const nn::NamedParam& p : m.named_parameters()) out[p.name] = p.tensor;
  return out;
}

}  // namespace

DType gguf_tensor_type(const Shape& shape, DType type) {
  if (shape.size() < 2) return DType::F32;
  if (!is_quantized(type)) return type;
  return shape.back() % dtype_info(type).block_elems == 0 ? type : DType::F16;
}

void add_gguf_model(const Decoder& m, io::GGUFWriter& w, const GgufSaveOptions& opt) {
  write_gguf_config(m.config(), w, opt.type);
  auto params = param_map(m);
  for (const GgufTensor& g : gguf_tensors(m)) {
    Tensor t = stacked_param(g, params);
    t = is_quantized(t.dtype()) ? quant::dequantize(t, DType::F32) : t.to(DType::F32).contiguous();
    if (g.rope_heads > 0) t = reorder_rope_rows(t, g.rope_heads, true);
    // The router stays f32 as llama.cpp keeps it: it is small, and rounding it flips near-tied
    // expert choices.
    bool router = g.name.ends_with("ffn_gate_inp.weight");
    DType dt = router ? DType::F32 : gguf_tensor_type(t.sizes(), opt.type);
    w.add_tensor(g.name, is_quantized(dt) ? quant::quantize(t, dt) : t.to(dt).contiguous());
  }
  const ModelConfig& c = m.config();
  if (c.rope_scaling.rope_type == "llama3") {
    std::vector<float> f = llama3_freq_factors(c.rope());
    w.add_tensor("rope_freqs.weight", Tensor::from_vector(f, {int64_t(f.size())}));
  }
}

void save_gguf(const Decoder& m, const std::string& path, const GgufSaveOptions& opt) {
  io::GGUFWriter w;
  add_gguf_model(m, w, opt);
  w.write(path);
}

namespace {

// The rows of a packed (block-quantized or half) tensor in llama.cpp's rope order put back in
// Hugging Face's: the same row permutation as reorder_rope_rows, moving whole rows of bytes.
Tensor reorder_packed_rope_rows(const Tensor& t, int64_t heads) {
  int64_t rows = t.size(0);
  std::vector<float> idx(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) idx[size_t(i)] = float(i);
  Tensor perm = reorder_rope_rows(Tensor::from_vector(idx, {rows}), heads, false);
  std::vector<float> src = perm.to_vector<float>();
  Tensor out = Tensor::empty(t.sizes(), t.dtype());
  size_t row_bytes = dtype_nbytes(t.dtype(), t.size(1));
  const char* in = static_cast<const char*>(t.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < rows; ++i)
    std::memcpy(o + size_t(i) * row_bytes, in + size_t(src[size_t(i)]) * row_bytes, row_bytes);
  return out;
}

}  // namespace

std::unique_ptr<Decoder> load_gguf(const io::GGUFReader& r, DType dt, bool packed) {
  auto m = std::make_unique<Decoder>(gguf_config(r), dt);
  auto params = param_map(*m);
  std::set<std::string> used;
  // Read by gguf_config into the llama3 rope parameters.
  if (m->config().rope_scaling.rope_type == "llama3") used.insert("rope_freqs.weight");
  for (const GgufTensor& g : gguf_tensors(*m)) {
    Shape want = params.at(g.params[0])->sizes();
    if (is_stacked(g)) want.insert(want.begin(), int64_t(g.params.size()));
    const io::GGUFTensorInfo* info = r.find_tensor(g.name);
    KILN_REQUIRE(info, r.path(), ": tensor ", g.name, " is missing, expected shape ",
                 shape_str(want));
    KILN_REQUIRE(info->shape == want, r.path(), ": tensor ", g.name, ": found shape ",
                 shape_str(info->shape), ", expected ", shape_str(want));
    used.insert(g.name);
    Tensor t = r.tensor(g.name);
    // Linear and embedding weights stay as stored, viewing the mapped file (q/k rows of llama
    // files are reordered into a copy; f32 ones are then expanded as before); the router is
    // expanded like the rest. The views are read-only: inference only.
    bool router = g.name.ends_with("ffn_gate_inp.weight");
    bool viewable =
        quant::is_packed_weight(t.dtype()) || (t.dtype() == DType::F32 && !g.rope_heads);
    if (packed && dt == DType::F32 && !is_stacked(g) && !router && t.dim() == 2 && viewable &&
        t.is_contiguous()) {
      if (g.rope_heads > 0) t = reorder_packed_rope_rows(t, g.rope_heads);
      *params.at(g.params[0]) = t;
      continue;
    }
    t = is_quantized(t.dtype()) ? quant::dequantize(t, DType::F32) : t.to(DType::F32);
    if (g.rope_heads > 0) t = reorder_rope_rows(t, g.rope_heads, false);
    if (!is_stacked(g)) {
      params.at(g.params[0])->copy_(t);
      continue;
    }
    for (size_t e = 0; e < g.params.size(); ++e)
      params.at(g.params[e])->copy_(t.select(0, int64_t(e)));
  }
  for (const io::GGUFTensorInfo& t : r.tensors())
    KILN_REQUIRE(used.count(t.name), r.path(), ": tensor ", t.name, " is not part of a ",
                 m->config().model_type, " model with this metadata (", "unexpected tensor)");
  return m;
}

std::unique_ptr<Decoder> load_gguf(const std::string& path, DType dt, bool packed) {
  return load_gguf(io::GGUFReader(path), dt, packed);
}

bool is_gguf_path(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".gguf";
}

}  // namespace kiln::models
