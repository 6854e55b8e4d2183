// The transformers fixtures (tests/data/hf) through GGUF: load the HF folder, write GGUF, load
// that, and compare with transformers' logits. Fixtures using a variant GGUF cannot hold yet
// (sliding windows, llama3 / dynamic RoPE, unnormalized top-k MoE weights) must be refused on
// write, naming the field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/autograd/grad_mode.h"
#include "kiln/io/safetensors.h"
#include "kiln/models/gguf_model.h"
#include "kiln/models/hf_checkpoint.h"

namespace kiln::models {
namespace {

namespace fs = std::filesystem;

constexpr double kTolerance = 1e-4;  // as hf_fixtures_test: f32 vs transformers' f32

bool refused(const ModelConfig& c, std::string& why) {
  if (c.sliding_window > 0) why = "sliding_window";
  const std::string& rt = c.rope_scaling.rope_type;
  if (rt == "dynamic") why = "rope_type";  // llama3 travels as rope_freqs.weight
  if (c.num_experts > 0 && !c.norm_topk_prob) why = "norm_topk_prob";
  return !why.empty();
}

TEST(GgufFixtures, HfToGgufKeepsTransformersLogits) {
  int converted = 0;
  for (const auto& e : fs::directory_iterator(KILN_HF_FIXTURES)) {
    fs::path dir = e.path();
    if (!fs::exists(dir / "config.json")) continue;
    SCOPED_TRACE(dir.filename().string());
    auto hf = load_model(dir.string());
    std::string gguf = (fs::temp_directory_path() / ("kiln_fixture_" + dir.filename().string() +
                                                     std::to_string(::getpid()) + ".gguf"))
                           .string();
    std::string why;
    if (refused(hf->config(), why)) {
      try {
        save_gguf(*hf, gguf);
        ADD_FAILURE() << "expected the write to be refused";
      } catch (const Error& err) {
        EXPECT_NE(std::string(err.what()).find(why), std::string::npos) << err.what();
      }
      EXPECT_FALSE(fs::exists(gguf));
      continue;
    }
    save_gguf(*hf, gguf);
    auto model = load_gguf(gguf);
    fs::remove(gguf);
    ++converted;
    nlohmann::json ids = nlohmann::json::parse(std::ifstream(dir / "ids.json"));
    io::SafetensorsFile want((dir / "logits.safetensors").string());
    double worst = 0;
    for (size_t i = 0; i < ids["sequences"].size(); ++i) {
      std::vector<int64_t> seq = ids["sequences"][i].get<std::vector<int64_t>>();
      int64_t t = int64_t(seq.size()), v = model->config().vocab_size;
      NoGradGuard ng;
      Tensor x = Tensor::from_vector(seq, {1, t});
      std::vector<float> a = model->forward(x).logits.to_vector<float>();
      std::vector<float> h = hf->forward(x).logits.to_vector<float>();
      std::vector<float> b = want.get("logits_" + std::to_string(i)).to_vector<float>();
      ASSERT_EQ(a.size(), size_t(t * v));
      ASSERT_EQ(a.size(), b.size());
      EXPECT_EQ(a, h) << "GGUF and HF loads of the same weights differ";
      double diff = 0;
      for (size_t k = 0; k < a.size(); ++k) diff = std::max(diff, double(std::abs(a[k] - b[k])));
      EXPECT_LE(diff, kTolerance) << "sequence " << i;
      worst = std::max(worst, diff);
    }
    std::printf("%-24s via GGUF: max |kiln - transformers| = %.3g\n", dir.filename().c_str(),
                worst);
  }
  EXPECT_GE(converted, 7);
}

}  // namespace
}  // namespace kiln::models
