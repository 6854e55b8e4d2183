// save_gguf -> load_gguf round trips (exact in f32, within the quantization error otherwise),
// llama.cpp's names, types and llama q/k row order, and the loader's errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include "kiln/autograd/grad_mode.h"
#include "kiln/models/gguf_model.h"
#include "kiln/models/gguf_rope_freqs.h"
#include "kiln/models/open_model.h"
#include "kiln/quant/quantize.h"
#include "tiny_models.h"

namespace kiln::models {
namespace {

namespace fs = std::filesystem;
using test::ids_tensor;
using test::max_abs_diff;
using test::random_model;
using test::tiny;
using test::tiny_with;

const std::vector<int64_t> kIds{1, 9, 23, 4, 58, 31, 2, 17};
const char* kArchs[] = {"llama", "qwen2", "qwen3", "qwen3_moe"};

std::string temp_file(const std::string& name) {
  return (fs::temp_directory_path() /
          ("kiln_gguf_" + name + "_" + std::to_string(::getpid()) + ".gguf"))
      .string();
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name) : path(temp_file(name)) {}
  ~TempFile() { fs::remove(path); }
};

Tensor logits(Decoder& m) {
  NoGradGuard ng;
  return m.forward(ids_tensor(kIds)).logits;
}

bool bit_identical(const Tensor& a, const Tensor& b) {
  std::vector<float> x = a.to(DType::F32).to_vector<float>(),
                     y = b.to(DType::F32).to_vector<float>();
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GgufModel, F32RoundTripIsExact) {
  for (const char* arch : kArchs) {
    SCOPED_TRACE(arch);
    TempFile f(arch);
    auto m = random_model(tiny(arch), 3);
    save_gguf(*m, f.path);
    auto back = load_gguf(f.path);
    EXPECT_EQ(back->config().model_type, m->config().model_type);
    EXPECT_EQ(back->config().num_experts, m->config().num_experts);
    auto a = m->named_parameters(), b = back->named_parameters();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].name, b[i].name);
      EXPECT_TRUE(bit_identical(*a[i].tensor, *b[i].tensor)) << a[i].name;
    }
    EXPECT_TRUE(bit_identical(logits(*m), logits(*back)));
  }
}

TEST(GgufModel, LlamaCppNamesAndMetadata) {
  TempFile f("names");
  auto m = random_model(tiny("qwen3_moe"), 4);
  save_gguf(*m, f.path);
  io::GGUFReader r(f.path);
  EXPECT_EQ(r.get("general.architecture").as_string(), "qwen3moe");
  EXPECT_EQ(r.get("qwen3moe.block_count").as_int(), 2);
  EXPECT_EQ(r.get("qwen3moe.embedding_length").as_int(), 32);
  EXPECT_EQ(r.get("qwen3moe.attention.head_count_kv").as_int(), 2);
  EXPECT_EQ(r.get("qwen3moe.attention.key_length").as_int(), 8);
  EXPECT_EQ(r.get("qwen3moe.expert_count").as_int(), 4);
  EXPECT_EQ(r.get("qwen3moe.expert_used_count").as_int(), 2);
  EXPECT_EQ(r.get("qwen3moe.expert_feed_forward_length").as_int(), 16);
  for (const char* n : {"token_embd.weight", "output_norm.weight", "output.weight",
                        "blk.1.attn_q_norm.weight", "blk.1.ffn_gate_inp.weight"})
    EXPECT_NE(r.find_tensor(n), nullptr) << n;
  // Experts stacked on the outermost dim: [n_expert, ff, d] and [n_expert, d, ff].
  EXPECT_EQ(r.find_tensor("blk.0.ffn_gate_exps.weight")->shape, (Shape{4, 16, 32}));
  EXPECT_EQ(r.find_tensor("blk.0.ffn_down_exps.weight")->shape, (Shape{4, 32, 16}));
  Tensor e2 = r.tensor("blk.0.ffn_up_exps.weight").select(0, 2);
  bool found = false;
  for (const auto& p : m->named_parameters()) {
    if (p.name != "model.layers.0.mlp.experts.2.up_proj.weight") continue;
    EXPECT_TRUE(bit_identical(e2, *p.tensor));
    found = true;
  }
  EXPECT_TRUE(found);
}

// llama.cpp's llama rotates interleaved pairs: row h*d + 2i + s of attn_q holds HF's row
// h*d + s*d/2 + i (d the head dim, s 0 or 1). qwen2/qwen3 keep HF's order.
TEST(GgufModel, LlamaQkRowsAreInterleaved) {
  for (const char* arch : {"llama", "qwen3"}) {
    SCOPED_TRACE(arch);
    TempFile f(std::string("perm_") + arch);
    auto m = random_model(tiny(arch), 5);
    save_gguf(*m, f.path);
    io::GGUFReader r(f.path);
    const ModelConfig& c = m->config();
    int64_t d = c.head_dim, cols = c.hidden_size;
    for (const auto& [proj, name, heads] :
         {std::tuple{"q_proj", "attn_q", c.num_attention_heads},
          std::tuple{"k_proj", "attn_k", c.num_key_value_heads}}) {
      std::vector<float> hf,
          gg = r.tensor(std::string("blk.1.") + name + ".weight").to(DType::F32).to_vector<float>();
      for (const auto& p : m->named_parameters())
        if (p.name == std::string("model.layers.1.self_attn.") + proj + ".weight")
          hf = p.tensor->to_vector<float>();
      ASSERT_EQ(hf.size(), gg.size());
      bool llama = std::string(arch) == "llama";
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t i = 0; i < d / 2; ++i)
          for (int64_t s = 0; s < 2; ++s) {
            int64_t from = h * d + s * d / 2 + i, to = llama ? h * d + 2 * i + s : from;
            ASSERT_EQ(hf[size_t(from * cols)], gg[size_t(to * cols)])
                << proj << " head " << h << " pair " << i;
          }
    }
  }
}

TEST(GgufModel, QuantizedRoundTripWithinQuantError) {
  // Max |logit difference| relative to the largest |logit|, per type.
  const std::pair<DType, double> types[] = {
      {DType::F16, 2e-3}, {DType::BF16, 2e-2}, {DType::Q8_0, 3e-2}, {DType::Q4_0, 0.3}};
  for (const char* arch : kArchs) {
    auto m = random_model(tiny_with(arch, {{"hidden_size", 64},
                                           {"intermediate_size", 64},
                                           {"moe_intermediate_size", 32},
                                           {"initializer_range", 0.05}}),
                          6);
    Tensor ref = logits(*m);
    double scale = max_abs_diff(ref, Tensor::zeros(ref.sizes()));
    for (const auto& [type, tol] : types) {
      SCOPED_TRACE(std::string(arch) + " " + dtype_name(type));
      TempFile f(std::string("q_") + arch + dtype_name(type));
      save_gguf(*m, f.path, {type});
      io::GGUFReader r(f.path);
      EXPECT_EQ(r.find_tensor("blk.0.attn_norm.weight")->dtype, DType::F32);
      EXPECT_EQ(r.find_tensor("token_embd.weight")->dtype, type);
      if (const io::GGUFTensorInfo* router = r.find_tensor("blk.0.ffn_gate_inp.weight")) {
        EXPECT_EQ(router->dtype, DType::F32);  // as llama.cpp keeps it
      }
      auto back = load_gguf(r, DType::F32, /*packed=*/false);
      // Unpermuted tensors load as exactly the dequantized quantization of the original.
      for (const auto& p : back->named_parameters())
        if (p.name.ends_with("v_proj.weight")) {
          Tensor orig;
          for (const auto& q : m->named_parameters())
            if (q.name == p.name) orig = *q.tensor;
          Tensor want = is_quantized(type) ? quant::dequantize(quant::quantize(orig, type))
                                           : orig.to(type).to(DType::F32);
          EXPECT_TRUE(bit_identical(*p.tensor, want)) << p.name;
        }
      double diff = max_abs_diff(ref, logits(*back)) / scale;
      EXPECT_LE(diff, tol);
      EXPECT_GT(diff, 0);  // the file really was quantized
      // Loaded for inference the weights stay packed, viewing the file: the placeholders the
      // model was built with are freed and no f32 copy is made. Quantized weights then meet 8-bit
      // activations, a second rounding within the same order as the weights' own.
      // MoE experts (stacked in the file) are still expanded to f32.
      auto before = int64_t(memory_stats(DeviceType::CPU).current);
      auto packed = load_gguf(r);
      int64_t owned = int64_t(memory_stats(DeviceType::CPU).current) - before, experts = 0;
      for (const auto& p : packed->named_parameters()) {
        if (p.name.find(".experts.") != std::string::npos) experts += p.tensor->numel() * 4;
        if (p.name.ends_with("v_proj.weight")) {
          EXPECT_EQ(p.tensor->dtype(), type) << p.name;
        }
      }
      EXPECT_LT(owned, experts + (int64_t(64) << 10));
      double packed_diff = max_abs_diff(ref, logits(*packed)) / scale;
      double vs_f32 = max_abs_diff(logits(*back), logits(*packed)) / scale;
      EXPECT_LE(packed_diff, tol);
      EXPECT_LE(vs_f32, is_quantized(type) ? tol : 1e-5);
      std::printf("%-10s %-5s max |logit diff| / max |logit| = %.3g (packed %.3g, %.3g from f32)\n",
                  arch, dtype_name(type), diff, packed_diff, vs_f32);
    }
  }
}

TEST(GgufModel, RowsThatAreNotWholeBlocksStayF16) {
  TempFile f("f16fallback");
  auto m = random_model(tiny("qwen3"), 7);  // hidden 32, ff 48: down_proj rows of 48
  save_gguf(*m, f.path, {DType::Q4_K});
  io::GGUFReader r(f.path);
  EXPECT_EQ(r.find_tensor("blk.0.ffn_down.weight")->dtype, DType::F16);
  EXPECT_EQ(r.find_tensor("blk.0.attn_q_norm.weight")->dtype, DType::F32);
  EXPECT_EQ(gguf_tensor_type({64, 256}, DType::Q4_K), DType::Q4_K);
  EXPECT_EQ(gguf_tensor_type({64, 32}, DType::Q8_0), DType::Q8_0);
  EXPECT_LE(max_abs_diff(logits(*m), logits(*load_gguf(f.path))), 1.0);
}

TEST(GgufModel, OpenModelAndLoadConfigAcceptGguf) {
  TempFile f("open");
  auto m = random_model(tiny("qwen2"), 8);
  save_gguf(*m, f.path);
  EXPECT_EQ(load_config(f.path).num_attention_heads, 4);
  EXPECT_TRUE(bit_identical(logits(*m), logits(*open_model(f.path))));
}

// Rewrites `src` to `dst` with metadata edited by `meta` and each tensor passed through `tensor`
// (which may drop it by returning an undefined Tensor).
void rewrite(const std::string& src, const std::string& dst,
             const std::function<void(io::GGUFWriter&)>& meta,
             const std::function<Tensor(const std::string&, const Tensor&)>& tensor) {
  io::GGUFReader r(src);
  io::GGUFWriter w;
  for (const auto& [k, v] : r.metadata()) w.set(k, v);
  meta(w);
  for (const io::GGUFTensorInfo& t : r.tensors())
    if (Tensor out = tensor(t.name, r.tensor(t.name)); out.defined()) w.add_tensor(t.name, out);
  w.write(dst);
}

TEST(GgufModel, ErrorsNameWhatIsWrong) {
  TempFile good("good"), bad("bad");
  save_gguf(*random_model(tiny("qwen3"), 9), good.path);
  auto keep = [](const std::string&, const Tensor& t) { return t; };
  auto no_meta = [](io::GGUFWriter&) {};

  rewrite(good.path, bad.path, no_meta, [](const std::string& n, const Tensor& t) {
    return n == "blk.1.attn_k.weight" ? Tensor() : t;
  });
  std::string e = error_of([&] { load_gguf(bad.path); });
  EXPECT_NE(e.find("tensor blk.1.attn_k.weight is missing, expected shape [16, 32]"),
            std::string::npos)
      << e;

  rewrite(good.path, bad.path, no_meta, [](const std::string& n, const Tensor& t) {
    return n == "blk.0.ffn_up.weight" ? Tensor::zeros({48, 16}) : t;
  });
  e = error_of([&] { load_gguf(bad.path); });
  EXPECT_NE(e.find("tensor blk.0.ffn_up.weight: found shape [48, 16], expected [48, 32]"),
            std::string::npos)
      << e;

  rewrite(
      good.path, bad.path,
      [](io::GGUFWriter& w) { w.set("general.architecture", io::GGUFValue::str("gpt9")); }, keep);
  e = error_of([&] { load_gguf(bad.path); });
  EXPECT_NE(e.find("general.architecture: found \"gpt9\", expected one of llama, qwen2"),
            std::string::npos)
      << e;

  {
    io::GGUFReader r(good.path);
    io::GGUFWriter w;
    for (const auto& [k, v] : r.metadata())
      if (k != "qwen3.embedding_length") w.set(k, v);
    for (const io::GGUFTensorInfo& t : r.tensors()) w.add_tensor(t.name, r.tensor(t.name));
    w.write(bad.path);
  }
  e = error_of([&] { load_gguf(bad.path); });
  EXPECT_NE(e.find("metadata key qwen3.embedding_length is missing"), std::string::npos) << e;

  rewrite(good.path, bad.path, no_meta, keep);
  fs::resize_file(bad.path, fs::file_size(bad.path) / 2);
  e = error_of([&] { load_gguf(bad.path); });
  EXPECT_NE(e.find(bad.path), std::string::npos) << e;
}

TEST(GgufModel, UnexpressibleVariantsAreRefusedOnWrite) {
  TempFile f("refuse");
  std::string e = error_of([&] { save_gguf(*random_model(tiny("mistral"), 1), f.path); });
  EXPECT_NE(e.find("sliding_window: found 3"), std::string::npos) << e;
  e = error_of([&] {
    save_gguf(*random_model(tiny_with("qwen3_moe", {{"norm_topk_prob", false}}), 1), f.path);
  });
  EXPECT_NE(e.find("norm_topk_prob"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(f.path));
}

// Llama-3 scaling travels as rope_freqs.weight and comes back as the same parameters.
TEST(GgufModel, Llama3RopeTravelsAsRopeFreqs) {
  TempFile f("llama3");
  ModelConfig c = tiny_with("llama", {{"head_dim", 16},
                                      {"rope_scaling",
                                       {{"rope_type", "llama3"},
                                        {"factor", 8.0},
                                        {"original_max_position_embeddings", 1024},
                                        {"low_freq_factor", 1.0},
                                        {"high_freq_factor", 8.0}}}});
  auto m = random_model(c, 5);
  save_gguf(*m, f.path);
  io::GGUFReader r(f.path);
  ASSERT_NE(r.find_tensor("rope_freqs.weight"), nullptr);
  EXPECT_EQ(r.find("llama.rope.scaling.type"), nullptr);  // as llama.cpp's converter writes it
  auto back = load_gguf(f.path);
  const nn::RopeScaling& s = back->config().rope_scaling;
  EXPECT_EQ(s.rope_type, "llama3");
  EXPECT_EQ(s.factor, 8.0);
  EXPECT_EQ(s.original_max_position_embeddings, 1024);
  EXPECT_EQ(s.low_freq_factor, 1.0);
  EXPECT_EQ(s.high_freq_factor, 8.0);
  EXPECT_TRUE(bit_identical(logits(*m), logits(*back)));
}

TEST(GgufModel, Llama3FitRecoversPublishedParameters) {
  // Llama 3.2's rope: theta 500000, head_dim 64, factor 32, original 8192, low 1, high 4.
  nn::RopeConfig c;
  c.head_dim = 64;
  c.theta = 500000;
  c.max_position_embeddings = 131072;
  c.scaling.rope_type = "llama3";
  c.scaling.factor = 32;
  c.scaling.original_max_position_embeddings = 8192;
  nn::RopeScaling s = llama3_from_freq_factors(llama3_freq_factors(c), c, "test");
  EXPECT_EQ(s.factor, 32.0);
  EXPECT_EQ(s.original_max_position_embeddings, 8192);
  EXPECT_EQ(s.low_freq_factor, 1.0);
  EXPECT_EQ(s.high_freq_factor, 4.0);
  // Factors of another form are refused, naming the tensor.
  std::vector<float> bad(32, 1.f);
  bad[20] = 3.f;
  bad[25] = 1.5f;
  bad[31] = 9.f;
  EXPECT_NE(error_of([&] { llama3_from_freq_factors(bad, c, "x.gguf"); }).find("rope_freqs.weight"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln::models
