#include "kiln/models/hf_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "kiln/io/safetensors.h"
#include "kiln/models/families.h"

namespace kiln::models {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kSingle = "model.safetensors";
const char* kIndex = "model.safetensors.index.json";

json read_json(const fs::path& p) {
  std::ifstream in(p);
  KILN_REQUIRE(in, p.string(), ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw Error(str(p.string(), ": not valid JSON: ", e.what()));
  }
}

// The tensors of a checkpoint folder, wherever they are stored.
class Checkpoint {
 public:
  explicit Checkpoint(const fs::path& dir) {
    if (fs::exists(dir / kIndex)) {
      json idx = read_json(dir / kIndex);
      KILN_REQUIRE(idx.contains("weight_map") && idx["weight_map"].is_object(),
                   (dir / kIndex).string(), ": field weight_map: missing, expected an object");
      std::map<std::string, const io::SafetensorsFile*> opened;
      for (const auto& [name, file] : idx["weight_map"].items()) {
        KILN_REQUIRE(file.is_string(), (dir / kIndex).string(), ": weight_map[", name, "]: found ",
                     file.dump(), ", expected a file name");
        std::string f = file.get<std::string>();
        if (!opened.count(f)) {
          files_.push_back(std::make_unique<io::SafetensorsFile>((dir / f).string()));
          opened[f] = files_.back().get();
        }
        KILN_REQUIRE(opened[f]->contains(name), (dir / kIndex).string(), ": tensor ", name,
                     " is mapped to ", f, ", which does not contain it");
        where_[name] = opened[f];
      }
    } else {
      KILN_REQUIRE(fs::exists(dir / kSingle), dir.string(), ": no ", kSingle, " or ", kIndex);
      files_.push_back(std::make_unique<io::SafetensorsFile>((dir / kSingle).string()));
      for (const std::string& n : files_[0]->names()) where_[n] = files_[0].get();
    }
  }
  bool contains(const std::string& n) const { return where_.count(n) != 0; }
  const io::SafetensorsFile& file(const std::string& n) const { return *where_.at(n); }
  Tensor get(const std::string& n) const {
    const io::SafetensorsFile& f = file(n);
    DType dt = f.dtype(n);
    KILN_REQUIRE(dt == DType::F32 || dt == DType::BF16 || dt == DType::F16, "tensor ", n, " in ",
                 f.path(), ": found dtype ", dtype_name(dt), ", expected f32, bf16 or f16");
    return f.get(n);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> v;
    for (const auto& [n, f] : where_) v.push_back(n);
    return v;
  }

 private:
  std::vector<std::unique_ptr<io::SafetensorsFile>> files_;
  std::map<std::string, const io::SafetensorsFile*> where_;
};

void require_shape(const std::string& name, const std::string& file, const Shape& found,
                   const Shape& expected) {
  KILN_REQUIRE(found == expected, "tensor ", name, " in ", file, ": found shape ", shape_str(found),
               ", expected ", shape_str(expected));
}

// A per-expert parameter read from transformers 5.x fused tensors, if the checkpoint has them.
bool load_fused_expert(const Checkpoint& ck, const std::string& name, const Tensor& dst,
                       std::set<std::string>& used) {
  static const std::regex re(
      R"(model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.(gate|up|down)_proj\.weight)");
  std::smatch m;
  if (!std::regex_match(name, m, re)) return false;
  int64_t layer = std::stoll(m[1]), e = std::stoll(m[2]);
  auto [gate_up, down] = hf_names::fused_experts(layer);
  const std::string& src = m[3] == "down" ? down : gate_up;
  if (!ck.contains(src)) return false;
  Tensor t = ck.get(src);
  int64_t d = dst.size(m[3] == "down" ? 0 : 1), i = dst.size(m[3] == "down" ? 1 : 0);
  int64_t experts = t.dim() == 3 ? t.size(0) : -1;
  Shape want = m[3] == "down" ? Shape{experts, d, i} : Shape{experts, 2 * i, d};
  require_shape(src, ck.file(src).path(), t.sizes(), want);
  KILN_REQUIRE(e < experts, "tensor ", src, ": found ", experts, " experts, expected more than ",
               e);
  Tensor part = t.select(0, e);
  if (m[3] == "gate") part = part.narrow(0, 0, i);
  if (m[3] == "up") part = part.narrow(0, i, i);
  dst.copy_(part);
  used.insert(src);
  return true;
}

}  // namespace

void load_hf_weights(Decoder& model, const std::string& dir, const LoadOptions& opt) {
  Checkpoint ck{fs::path(dir)};
  std::set<std::string> used;
  for (const nn::NamedParam& p : model.named_parameters()) {
    if (!ck.contains(p.name)) {
      KILN_REQUIRE(load_fused_expert(ck, p.name, *p.tensor, used), "tensor ", p.name,
                   ": missing from ", dir, ", expected shape ", shape_str(p.tensor->sizes()));
      continue;
    }
    Tensor t = ck.get(p.name);
    require_shape(p.name, ck.file(p.name).path(), t.sizes(), p.tensor->sizes());
    used.insert(p.name);
    if (opt.zero_copy && t.dtype() == p.tensor->dtype())
      *p.tensor = t;
    else
      p.tensor->copy_(t);
  }
  const ModelConfig& c = model.config();
  for (const std::string& n : ck.names()) {
    if (used.count(n)) continue;
    // Tied checkpoints sometimes store the head anyway; old ones store RoPE tables.
    bool harmless =
        (n == hf_names::lm_head() && c.tie_word_embeddings) || n.ends_with("rotary_emb.inv_freq");
    KILN_REQUIRE(harmless, "tensor ", n, " in ", ck.file(n).path(), ": unexpected, not part of a ",
                 c.model_type, " model with this config.json");
  }
}

std::unique_ptr<Decoder> load_model(const std::string& dir, const LoadOptions& opt) {
  ModelConfig c = load_hf_config((fs::path(dir) / "config.json").string());
  auto m = std::make_unique<Decoder>(c, opt.dtype);
  load_hf_weights(*m, dir, opt);
  return m;
}

namespace {

const char* torch_dtype_name(DType dt) {
  switch (dt) {
    case DType::F32:
      return "float32";
    case DType::BF16:
      return "bfloat16";
    case DType::F16:
      return "float16";
    default:
      throw Error(str("save_hf dtype: found ", dtype_name(dt), ", expected f32, bf16 or f16"));
  }
}

void write_json(const fs::path& p, const json& j) {
  std::string text = j.dump(2) + "\n";
  io::write_atomically(p.string(), [&](std::FILE* f) {
    KILN_REQUIRE(std::fwrite(text.data(), 1, text.size(), f) == text.size(), p.string(),
                 ": write failed");
  });
}

std::string shard_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

// Removes weight files of an earlier save that are not among `keep`.
void remove_stale(const fs::path& dir, const std::set<std::string>& keep) {
  static const std::regex shard(R"(model-\d{5}-of-\d{5}\.safetensors)");
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    bool weights = n == kSingle || n == kIndex || std::regex_match(n, shard);
    if (weights && !keep.count(n)) fs::remove(e.path());
  }
}

}  // namespace

void save_hf(const Decoder& model, const std::string& dir_str, const SaveOptions& opt) {
  fs::path dir(dir_str);
  ModelConfig c = model.config();
  c.torch_dtype = torch_dtype_name(opt.dtype);
  json config = to_hf_config(c);
  fs::create_directories(dir);

  std::vector<std::vector<std::pair<std::string, Tensor>>> shards(1);
  int64_t bytes = 0, total = 0;
  for (const nn::NamedParam& p : model.named_parameters()) {
    Tensor t = p.tensor->detach().to(opt.dtype).contiguous();
    int64_t b = int64_t(t.nbytes());
    if (bytes > 0 && bytes + b > opt.max_shard_bytes) {
      shards.emplace_back();
      bytes = 0;
    }
    shards.back().emplace_back(p.name, t);
    bytes += b;
    total += b;
  }
  std::set<std::string> written{"config.json", "generation_config.json"};
  std::map<std::string, std::string> meta{{"format", "pt"}};
  if (shards.size() == 1) {
    io::save_safetensors((dir / kSingle).string(), shards[0], meta);
    written.insert(kSingle);
  } else {
    json map = json::object();
    for (size_t i = 0; i < shards.size(); ++i) {
      std::string name = shard_name(i, shards.size());
      io::save_safetensors((dir / name).string(), shards[i], meta);
      for (const auto& [n, t] : shards[i]) map[n] = name;
      written.insert(name);
    }
    write_json(dir / kIndex, {{"metadata", {{"total_size", total}}}, {"weight_map", map}});
    written.insert(kIndex);
  }
  json gen = {{"_from_model_config", true}};
  if (c.bos_token_id) gen["bos_token_id"] = *c.bos_token_id;
  if (c.pad_token_id) gen["pad_token_id"] = *c.pad_token_id;
  if (c.eos_token_ids.size() == 1) gen["eos_token_id"] = c.eos_token_ids[0];
  if (c.eos_token_ids.size() > 1) gen["eos_token_id"] = c.eos_token_ids;
  write_json(dir / "generation_config.json", gen);
  write_json(dir / "config.json", config);
  remove_stale(dir, written);
}

}  // namespace kiln::models
