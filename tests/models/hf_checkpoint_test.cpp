// save_hf -> load_model round trips, sharding, dtypes, fused MoE experts and loader errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/autograd/functions.h"
#include "kiln/io/safetensors.h"
#include "kiln/models/families.h"
#include "kiln/models/hf_checkpoint.h"
#include "tiny_models.h"

namespace kiln::models {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::ids_tensor;
using test::max_abs_diff;
using test::random_model;
using test::tiny;

const std::vector<int64_t> kIds{1, 9, 23, 4, 58, 31, 2, 17};

class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(fs::temp_directory_path() /
              ("kiln_models_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }
  fs::path operator/(const std::string& f) const { return path_ / f; }

 private:
  fs::path path_;
};

Tensor logits(Decoder& m) {
  NoGradGuard ng;
  return m.forward(ids_tensor(kIds, 2)).logits;
}

std::vector<std::pair<std::string, Tensor>> read_all(const fs::path& file) {
  io::SafetensorsFile f(file.string());
  std::vector<std::pair<std::string, Tensor>> out;
  for (const std::string& n : f.names()) out.emplace_back(n, f.get(n).clone());
  return out;
}

std::string load_error(const std::string& dir) {
  try {
    load_model(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(HfCheckpoint, RoundTripGivesIdenticalLogits) {
  for (const Family& f : families()) {
    TempDir dir("rt_" + f.model_type);
    auto m = random_model(tiny(f.model_type), 2);
    save_hf(*m, dir.str());
    EXPECT_TRUE(fs::exists(dir / "config.json"));
    EXPECT_TRUE(fs::exists(dir / "generation_config.json"));
    EXPECT_TRUE(fs::exists(dir / "model.safetensors"));
    json cfg = json::parse(std::ifstream(dir / "config.json"));
    EXPECT_EQ(cfg["architectures"][0], f.architecture);
    EXPECT_FALSE(cfg.contains("qk_norm"));  // implied by the family, not written
    io::SafetensorsFile st((dir / "model.safetensors").string());
    EXPECT_EQ(st.metadata().at("format"), "pt");
    auto back = load_model(dir.str());
    EXPECT_EQ(max_abs_diff(logits(*m), logits(*back)), 0.0) << f.model_type;
  }
}

TEST(HfCheckpoint, ShardedSaveAndLoad) {
  TempDir dir("shards");
  auto m = random_model(tiny("qwen3_moe"), 4);
  SaveOptions small;
  small.max_shard_bytes = 40000;
  save_hf(*m, dir.str(), small);
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  json idx = json::parse(std::ifstream(dir / "model.safetensors.index.json"));
  std::set<std::string> files;
  for (const auto& [name, file] : idx["weight_map"].items()) files.insert(file);
  EXPECT_GT(files.size(), 2u);
  auto back = load_model(dir.str());
  EXPECT_EQ(max_abs_diff(logits(*m), logits(*back)), 0.0);
  // Saving unsharded over it removes the shards and the index.
  save_hf(*m, dir.str());
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.index.json"));
  for (const std::string& f : files) EXPECT_FALSE(fs::exists(dir / f)) << f;
  EXPECT_EQ(max_abs_diff(logits(*m), logits(*load_model(dir.str()))), 0.0);
}

TEST(HfCheckpoint, Bf16FilesCastToComputeDtype) {
  TempDir dir("bf16");
  auto m = random_model(tiny("llama"), 5);
  SaveOptions o;
  o.dtype = DType::BF16;
  save_hf(*m, dir.str(), o);
  EXPECT_EQ(json::parse(std::ifstream(dir / "config.json"))["torch_dtype"], "bfloat16");
  auto f32 = load_model(dir.str());
  auto src = m->named_parameters();
  auto dst = f32->named_parameters();
  for (size_t i = 0; i < src.size(); ++i)
    EXPECT_EQ(max_abs_diff(src[i].tensor->to(DType::BF16).to(DType::F32), *dst[i].tensor), 0.0)
        << src[i].name;
  LoadOptions mapped;
  mapped.dtype = DType::BF16;
  mapped.zero_copy = true;
  auto bf = load_model(dir.str(), mapped);
  for (const nn::NamedParam& p : bf->named_parameters()) {
    EXPECT_EQ(p.tensor->dtype(), DType::BF16);
    EXPECT_FALSE(p.tensor->requires_grad()) << p.name;
  }
  EXPECT_LE(max_abs_diff(logits(*f32), logits(*bf).to(DType::F32)), 0.1);
}

TEST(HfCheckpoint, FusedExpertsOfTransformers5) {
  TempDir dir("fused");
  ModelConfig c = tiny("qwen3_moe");
  auto m = random_model(c, 6);
  save_hf(*m, dir.str());
  std::vector<std::pair<std::string, Tensor>> kept;
  for (auto& [name, t] : read_all(dir / "model.safetensors"))
    if (name.find(".mlp.experts.") == std::string::npos) kept.emplace_back(name, t);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    nn::Moe& moe = *(*m->model->layers)[size_t(l)].moe;
    std::vector<Tensor> gate_up, down;
    for (nn::Mlp* e : *moe.experts) {
      gate_up.push_back(concat({e->gate_proj->weight, e->up_proj->weight}, 0).unsqueeze(0));
      down.push_back(e->down_proj->weight.unsqueeze(0));
    }
    auto [gu_name, down_name] = hf_names::fused_experts(l);
    NoGradGuard ng;
    kept.emplace_back(gu_name, concat(gate_up, 0));
    kept.emplace_back(down_name, concat(down, 0));
  }
  io::save_safetensors((dir / "model.safetensors").string(), kept, {{"format", "pt"}});
  EXPECT_EQ(max_abs_diff(logits(*m), logits(*load_model(dir.str()))), 0.0);
}

TEST(HfCheckpoint, TiedCheckpointMayStoreTheHead) {
  TempDir dir("tied");
  auto m = random_model(test::tiny_with("qwen3", {{"tie_word_embeddings", true}}), 8);
  save_hf(*m, dir.str());
  auto t = read_all(dir / "model.safetensors");
  t.emplace_back("lm_head.weight", m->lm_head_weight().detach());
  io::save_safetensors((dir / "model.safetensors").string(), t, {{"format", "pt"}});
  EXPECT_EQ(max_abs_diff(logits(*m), logits(*load_model(dir.str()))), 0.0);
}

TEST(HfCheckpoint, ErrorsNameTensorExpectedAndFound) {
  TempDir dir("errors");
  auto m = random_model(tiny("qwen2"), 9);
  save_hf(*m, dir.str());
  fs::path weights = dir / "model.safetensors";
  auto all = read_all(weights);
  auto rewrite = [&](const std::vector<std::pair<std::string, Tensor>>& t) {
    io::save_safetensors(weights.string(), t, {{"format", "pt"}});
  };
  const std::string victim = "model.layers.1.self_attn.k_proj.bias";

  auto missing = all;
  std::erase_if(missing, [&](const auto& p) { return p.first == victim; });
  rewrite(missing);
  std::string e = load_error(dir.str());
  EXPECT_NE(e.find(victim), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
  EXPECT_NE(e.find("[16]"), std::string::npos) << e;

  auto wrong = all;
  for (auto& [n, t] : wrong)
    if (n == victim) t = Tensor::zeros({15});
  rewrite(wrong);
  e = load_error(dir.str());
  EXPECT_NE(e.find(victim), std::string::npos) << e;
  EXPECT_NE(e.find("found shape [15], expected [16]"), std::string::npos) << e;

  auto ints = all;
  for (auto& [n, t] : ints)
    if (n == victim) t = Tensor::zeros({16}, DType::I32);
  rewrite(ints);
  e = load_error(dir.str());
  EXPECT_NE(e.find("dtype i32"), std::string::npos) << e;

  auto extra = all;
  extra.emplace_back("model.layers.0.self_attn.sinks", Tensor::zeros({4}));
  rewrite(extra);
  e = load_error(dir.str());
  EXPECT_NE(e.find("model.layers.0.self_attn.sinks"), std::string::npos) << e;
  EXPECT_NE(e.find("unexpected"), std::string::npos) << e;

  rewrite(all);
  EXPECT_EQ(load_error(dir.str()), "");
  json cfg = json::parse(std::ifstream(dir / "config.json"));
  json bad = cfg;
  bad["architectures"] = {"Gemma3ForCausalLM"};
  bad.erase("model_type");
  std::ofstream(dir / "config.json") << bad.dump();
  e = load_error(dir.str());
  EXPECT_NE(e.find("Gemma3ForCausalLM"), std::string::npos) << e;

  std::ofstream(dir / "config.json") << cfg.dump();
  fs::remove(weights);
  e = load_error(dir.str());
  EXPECT_NE(e.find("model.safetensors"), std::string::npos) << e;
}

}  // namespace
}  // namespace kiln::models
