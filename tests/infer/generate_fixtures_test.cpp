// kiln's greedy generation against transformers' generate() on the tiny checkpoints
// (tests/data/hf/generate.json, made by tools/make_generate_fixtures.py).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/infer/generator.h"
#include "kiln/infer/speculative.h"
#include "kiln/models/open_model.h"

namespace kiln::infer {
namespace {

const std::string kRoot = std::string(KILN_SOURCE_DIR) + "/tests/data/hf";

nlohmann::json fixtures() {
  std::ifstream f(kRoot + "/generate.json");
  return nlohmann::json::parse(f);
}

TEST(GenerateFixtures, GreedyEqualsTransformersTokenByToken) {
  nlohmann::json j = fixtures();
  ASSERT_GE(j["models"].size(), 10u);
  for (const auto& [name, runs] : j["models"].items()) {
    auto m = models::open_model(kRoot + "/" + name);
    EngineOptions eo;
    eo.prefill_chunk = 4;  // the fixtures' prompts are 5 and 12 tokens: chunked
    eo.block_size = 4;
    eo.context = 64;  // past llama_dynamic_rope's max_position_embeddings (8), as transformers
    Engine e(*m, nullptr, eo);
    for (const auto& run : runs) {
      GenerateOptions o;
      o.sampling.temperature = 0;
      o.max_tokens = j["new_tokens"].get<int64_t>();
      std::vector<int32_t> prompt = run["prompt"].get<std::vector<int32_t>>();
      std::vector<int32_t> want = run["generated"].get<std::vector<int32_t>>();
      EXPECT_EQ(e.generate(prompt, o).ids, want) << name << " prompt of " << prompt.size();
    }
  }
}

// Speculative decoding keeps the target's greedy output: transformers' ids again, with a draft
// of another family (rarely right) and with the target as its own draft (always right).
TEST(GenerateFixtures, SpeculativeGreedyEqualsTransformers) {
  nlohmann::json j = fixtures();
  auto other = models::open_model(kRoot + "/qwen3");
  for (const auto& [name, runs] : j["models"].items()) {
    auto m = models::open_model(kRoot + "/" + name);
    if (name == "llama_dynamic_rope") {  // refused past its max_position_embeddings (8)
      Engine e(*m, nullptr, {.context = 64});
      EXPECT_THROW(SpeculativeDecoder(e, *other, {4}), Error);
      continue;
    }
    for (models::Decoder* draft : {other.get(), m.get()}) {
      EngineOptions eo;
      eo.prefill_chunk = 5;
      eo.block_size = 4;
      eo.context = 64;
      Engine e(*m, nullptr, eo);
      SpeculativeDecoder spec(e, *draft, {4});
      for (const auto& run : runs) {
        GenerateOptions o;
        o.sampling.temperature = 0;
        o.max_tokens = j["new_tokens"].get<int64_t>();
        std::vector<int32_t> prompt = run["prompt"].get<std::vector<int32_t>>();
        std::vector<int32_t> want = run["generated"].get<std::vector<int32_t>>();
        EXPECT_EQ(e.generate(prompt, o).ids, want)
            << name << " prompt of " << prompt.size() << (draft == m.get() ? ", self-draft" : "");
      }
      if (draft == m.get()) {
        EXPECT_EQ(spec.stats().accepted, spec.stats().proposed) << name;
      }
    }
  }
}

}  // namespace
}  // namespace kiln::infer
