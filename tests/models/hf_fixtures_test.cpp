// kiln's logits against transformers' on tiny random models of every family
// (tools/make_hf_fixtures.py): each fixture folder under tests/data/hf holds a saved model,
// ids.json and logits.safetensors with the float32 logits transformers computed.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/autograd/grad_mode.h"
#include "kiln/io/safetensors.h"
#include "kiln/models/hf_checkpoint.h"

namespace kiln::models {
namespace {

namespace fs = std::filesystem;

// Max |kiln - transformers| over every logit; both compute in f32, with different summation
// orders.
constexpr double kTolerance = 1e-4;

std::vector<fs::path> fixtures() {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(KILN_HF_FIXTURES))
    if (fs::exists(e.path() / "config.json")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

TEST(HfFixtures, LogitsMatchTransformers) {
  std::vector<fs::path> dirs = fixtures();
  ASSERT_FALSE(dirs.empty()) << "no fixtures in " << KILN_HF_FIXTURES;
  for (const fs::path& dir : dirs) {
    SCOPED_TRACE(dir.filename().string());
    auto model = load_model(dir.string());
    nlohmann::json ids = nlohmann::json::parse(std::ifstream(dir / "ids.json"));
    io::SafetensorsFile want((dir / "logits.safetensors").string());
    ASSERT_FALSE(ids["sequences"].empty());
    double worst = 0;
    for (size_t i = 0; i < ids["sequences"].size(); ++i) {
      std::vector<int64_t> seq = ids["sequences"][i].get<std::vector<int64_t>>();
      int64_t t = int64_t(seq.size()), v = model->config().vocab_size;
      NoGradGuard ng;
      Tensor got = model->forward(Tensor::from_vector(seq, {1, t})).logits.reshape({t, v});
      Tensor ref = want.get("logits_" + std::to_string(i));
      ASSERT_EQ(ref.sizes(), got.sizes());
      std::vector<float> a = got.to_vector<float>(), b = ref.to_vector<float>();
      double diff = 0;
      for (size_t k = 0; k < a.size(); ++k) diff = std::max(diff, double(std::abs(a[k] - b[k])));
      EXPECT_LE(diff, kTolerance) << "sequence " << i << " (length " << t << ")";
      worst = std::max(worst, diff);
    }
    std::printf("%-24s max |kiln - transformers| = %.3g\n", dir.filename().c_str(), worst);
  }
}

}  // namespace
}  // namespace kiln::models
