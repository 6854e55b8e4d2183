// The generation engine: greedy with the paged cache against argmax of a full forward, chunked
// prefill, several sequences at once, stop tokens and strings, limits and errors.
#include <gtest/gtest.h>

#include "kiln/autograd/grad_mode.h"
#include "kiln/infer/generator.h"
#include "tiny_models.h"

namespace kiln::infer {
namespace {

using models::test::random_model;
using models::test::tiny;
using models::test::tiny_with;

std::vector<int32_t> prompt_of(int64_t n, int64_t v, int64_t salt = 0) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(int32_t((i * 13 + 3 + salt * 7) % v));
  return ids;
}

GenerateOptions greedy(int64_t max_tokens) {
  GenerateOptions o;
  o.sampling.temperature = 0;
  o.max_tokens = max_tokens;
  return o;
}

// The reference: append argmax of a full forward over everything so far, one token at a time.
std::vector<int32_t> argmax_continuation(models::Decoder& m, std::vector<int32_t> ids, int64_t n) {
  NoGradGuard ng;
  std::vector<int32_t> out;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> x(ids.begin(), ids.end());
    Tensor logits = m.forward(Tensor::from_vector(x, {1, int64_t(x.size())})).logits;
    std::vector<float> last = logits.select(1, logits.size(1) - 1).to_vector<float>();
    int32_t next = int32_t(std::max_element(last.begin(), last.end()) - last.begin());
    out.push_back(next);
    ids.push_back(next);
  }
  return out;
}

class GreedyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GreedyTest, EqualsArgmaxOfFullForward) {
  models::ModelConfig c = tiny(GetParam());
  auto m = random_model(c, 11);
  EngineOptions eo;
  eo.block_size = 4;
  eo.prefill_chunk = 3;
  Engine e(*m, nullptr, eo);
  std::vector<int32_t> prompt = prompt_of(7, c.vocab_size);
  GenerateResult r = e.generate(prompt, greedy(20));
  EXPECT_EQ(r.ids, argmax_continuation(*m, prompt, 20));
  EXPECT_EQ(r.finish, FinishReason::Length);
  EXPECT_EQ(r.stats.prompt_tokens, 7);
  EXPECT_EQ(r.stats.generated_tokens, 20);
  EXPECT_EQ(e.pool().used_blocks(), 0);  // the sequence gave its blocks back
}

INSTANTIATE_TEST_SUITE_P(Families, GreedyTest,
                         ::testing::Values("llama", "mistral", "qwen3", "qwen3_moe"));

TEST(Generator, ChunkedPrefillEqualsOneShot) {
  models::ModelConfig c = tiny("qwen2");
  auto m = random_model(c, 12);
  std::vector<int32_t> prompt = prompt_of(23, c.vocab_size, 1);
  GenerateOptions o;
  o.max_tokens = 12;
  o.sampling.temperature = 0.9;
  o.sampling.seed = 5;
  o.sampling.logprobs = 3;
  std::vector<GenerateResult> runs;
  for (int64_t chunk : {1, 5, 64}) {
    EngineOptions eo;
    eo.prefill_chunk = chunk;
    runs.push_back(Engine(*m, nullptr, eo).generate(prompt, o));
  }
  for (const GenerateResult& r : runs) {
    EXPECT_EQ(r.ids, runs[2].ids);
    for (size_t i = 0; i < r.samples.size(); ++i)
      EXPECT_NEAR(r.samples[i].logprob, runs[2].samples[i].logprob, 1e-4);
  }
}

TEST(Generator, SequencesSharingThePoolMatchSequencesAlone) {
  models::ModelConfig c = tiny("mistral");
  auto m = random_model(c, 13);
  EngineOptions eo;
  eo.max_sequences = 3;
  eo.block_size = 2;
  Engine e(*m, nullptr, eo);
  std::vector<std::vector<int32_t>> prompts = {
      prompt_of(5, c.vocab_size, 1), prompt_of(9, c.vocab_size, 2), prompt_of(2, c.vocab_size, 3)};
  std::vector<size_t> calls(3, 0);
  std::vector<GenerateResult> together = e.generate(
      prompts, greedy(10), [&](size_t seq, const Sample&, std::string_view) { ++calls[seq]; });
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(together[i].ids, argmax_continuation(*m, prompts[i], 10)) << "prompt " << i;
    EXPECT_EQ(calls[i], 10u);
  }
  EXPECT_EQ(e.pool().used_blocks(), 0);
}

TEST(Generator, StopTokenEndsWithoutBeingOutput) {
  models::ModelConfig c = tiny("llama");
  auto m = random_model(c, 14);
  Engine e(*m, nullptr);
  std::vector<int32_t> prompt = prompt_of(4, c.vocab_size);
  std::vector<int32_t> free_run = e.generate(prompt, greedy(12)).ids;
  // The first position where a new token appears: stopping on it cuts there.
  size_t k = 1;
  while (k < free_run.size() && std::find(free_run.begin(), free_run.begin() + int64_t(k),
                                          free_run[k]) != free_run.begin() + int64_t(k))
    ++k;
  ASSERT_LT(k, free_run.size()) << "the tiny model repeats one token";
  GenerateOptions o = greedy(12);
  o.stop_ids = {free_run[k]};
  GenerateResult r = e.generate(prompt, o);
  EXPECT_EQ(r.finish, FinishReason::StopToken);
  EXPECT_EQ(r.ids, std::vector<int32_t>(free_run.begin(), free_run.begin() + int64_t(k)));
}

TEST(Generator, StopsAtTheEndOfTheContext) {
  models::ModelConfig c = tiny("qwen3");  // max_position_embeddings 64
  auto m = random_model(c, 15);
  EngineOptions eo;
  eo.context = 12;
  Engine e(*m, nullptr, eo);
  GenerateResult r = e.generate(prompt_of(8, c.vocab_size), greedy(100));
  EXPECT_EQ(r.finish, FinishReason::Context);
  EXPECT_EQ(r.ids.size(), 4u);
}

TEST(Generator, StopStringsCutTheTextAndStreamingAddsUp) {
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(std::string(KILN_SOURCE_DIR) +
                                                        "/configs/tokenizers/shakespeare-bytes");
  models::ModelConfig c = tiny_with("llama", {{"vocab_size", tok.vocab_size()}});
  auto m = random_model(c, 16);
  Engine e(*m, &tok);
  std::vector<int32_t> prompt = tok.encode("ROMEO:");
  GenerateOptions o;
  o.max_tokens = 40;
  o.sampling.seed = 3;
  std::string streamed;
  auto collect = [&](size_t, const Sample&, std::string_view t) { streamed += t; };
  GenerateResult free_run = e.generate(prompt, o, collect);
  EXPECT_EQ(streamed, free_run.text);
  EXPECT_EQ(free_run.text, tok.decode(free_run.ids, true));
  ASSERT_GT(free_run.text.size(), 12u);
  std::string stop = free_run.text.substr(8, 3);
  size_t at = free_run.text.find(stop);
  o.stop_strings = {"never appears in this text \x01", stop};
  streamed.clear();
  GenerateResult r = e.generate(prompt, o, collect);
  EXPECT_EQ(r.finish, FinishReason::StopString);
  EXPECT_EQ(r.text, free_run.text.substr(0, at));
  EXPECT_EQ(streamed, r.text);  // the stop string's start was held back, never streamed
}

class SessionTest : public ::testing::TestWithParam<std::string> {};

// A conversation: each turn's prompt is the last prompt, its reply and more. The session feeds
// only what its cache does not hold, and gives what a fresh sequence gives.
TEST_P(SessionTest, ReusesTheCachedPrefixAndMatchesAFreshSequence) {
  models::ModelConfig c = tiny(GetParam());
  auto m = random_model(c, 18);
  EngineOptions eo;
  eo.block_size = 2;
  Engine e(*m, nullptr, eo);
  Session session(e);
  std::vector<int32_t> prompt = prompt_of(6, c.vocab_size);
  for (int turn = 0; turn < 3; ++turn) {
    GenerateResult r = e.generate(session, prompt, greedy(5));
    EXPECT_EQ(r.ids, e.generate(prompt, greedy(5)).ids) << "turn " << turn;
    // Turn 1 on keeps the last prompt and one reply token: the cache is cut back to there, which
    // the sliding model cannot do once its windows have moved past it.
    int64_t want = turn == 0 ? 0 : c.sliding_window > 0 ? 0 : int64_t(prompt.size()) - 2;
    EXPECT_EQ(r.stats.cached_tokens, want) << "turn " << turn;
    EXPECT_EQ(session.cached_tokens(), int64_t(prompt.size() + r.ids.size()) - 1);
    prompt.push_back(r.ids[0]);  // as if the reply were re-encoded differently after its start
    prompt.push_back(int32_t((turn * 5 + 1) % c.vocab_size));
    prompt.push_back(int32_t((turn * 3 + 2) % c.vocab_size));
  }
  session.reset();
  EXPECT_EQ(session.cached_tokens(), 0);
  EXPECT_EQ(e.pool().used_blocks(), 0);
}

INSTANTIATE_TEST_SUITE_P(Families, SessionTest, ::testing::Values("llama", "mistral"));

TEST(Generator, BadInputGetsClearErrors) {
  models::ModelConfig c = tiny("llama");  // vocab 61, max_position_embeddings 64
  auto m = random_model(c, 17);
  Engine e(*m, nullptr);
  auto error_of = [&](std::vector<int32_t> prompt, GenerateOptions o) {
    try {
      e.generate(prompt, o);
    } catch (const Error& err) {
      return std::string(err.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of({}, greedy(4)).find("prompt: no tokens"), std::string::npos);
  EXPECT_NE(error_of(prompt_of(64, 61), greedy(4)).find("64 tokens, but the context holds 64"),
            std::string::npos);
  EXPECT_NE(error_of({1, 61, 2}, greedy(4)).find("token id 61 at index 1 is out of range [0, 61)"),
            std::string::npos);
  EXPECT_NE(error_of({1, -1}, greedy(4)).find("token id -1"), std::string::npos);
  GenerateOptions o = greedy(4);
  o.stop_strings = {"x"};
  EXPECT_NE(error_of({1}, o).find("stop strings need a tokenizer"), std::string::npos);
  o = greedy(4);
  o.sampling.top_p = 0;
  EXPECT_NE(error_of({1}, o).find("top_p"), std::string::npos);
  EXPECT_NE(error_of({1}, greedy(0)).find("max_tokens"), std::string::npos);
  EXPECT_EQ(error_of({1, 2}, greedy(2)), "");
}

}  // namespace
}  // namespace kiln::infer
