// kiln's sliding-window perplexity against transformers' on the tiny checkpoints
// (tests/data/hf/perplexity.json, made by tools/make_perplexity_fixtures.py): within 0.1 %.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/autograd/grad_mode.h"
#include "kiln/infer/perplexity.h"
#include "kiln/models/open_model.h"

namespace kiln::infer {
namespace {

const std::string kRoot = std::string(KILN_SOURCE_DIR) + "/tests/data/hf";

TEST(PerplexityFixtures, WithinATenthOfAPercentOfTransformers) {
  nlohmann::json j = nlohmann::json::parse(std::ifstream(kRoot + "/perplexity.json"));
  std::vector<int32_t> ids = j["ids"].get<std::vector<int32_t>>();
  ASSERT_GE(j["models"].size(), 10u);
  double worst = 0;
  for (const auto& [name, results] : j["models"].items()) {
    auto m = models::open_model(kRoot + "/" + name);
    NoGradGuard ng;
    for (size_t c = 0; c < j["cases"].size(); ++c) {
      int64_t context = j["cases"][c]["context"], stride = j["cases"][c]["stride"];
      PerplexityResult got = perplexity(*m, ids, context, stride);
      const nlohmann::json& want = results[c];
      EXPECT_EQ(got.tokens, want["tokens"].get<int64_t>()) << name;
      EXPECT_EQ(got.windows, want["windows"].get<int64_t>()) << name;
      double rel = std::abs(got.ppl / want["ppl"].get<double>() - 1);
      worst = std::max(worst, rel);
      EXPECT_LE(rel, 1e-3) << name << " context " << context << " stride " << stride << ": kiln "
                           << got.ppl << ", transformers " << want["ppl"];
    }
  }
  std::printf("worst relative perplexity difference: %.3g\n", worst);
}

}  // namespace
}  // namespace kiln::infer
