// Speculative decoding: greedy output equal to the target alone token for token (drafts that
// agree always, often or rarely; sliding-window targets and drafts; stops and limits), caches
// given back, bad pairs refused, and the sampled accept/reject rule reproducing the target's
// distribution (a chi-square test on a tiny vocabulary).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "kiln/autograd/grad_mode.h"
#include "kiln/infer/speculative.h"
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

struct Pair {
  std::string name, target, draft;  // model types
  uint64_t target_seed, draft_seed;
  int64_t draft_layers;  // 0: as the tiny config
  int64_t k, block_size;
};

class SpeculativeGreedy : public ::testing::TestWithParam<Pair> {};

TEST_P(SpeculativeGreedy, EqualsTheTargetAlone) {
  const Pair& p = GetParam();
  models::ModelConfig tc = tiny(p.target);
  auto target = random_model(tc, p.target_seed);
  models::ModelConfig dc = p.draft_layers > 0
                               ? tiny_with(p.draft, {{"num_hidden_layers", p.draft_layers}})
                               : tiny(p.draft);
  auto draft_owned = p.draft_seed == p.target_seed && p.draft == p.target && p.draft_layers == 0
                         ? nullptr
                         : random_model(dc, p.draft_seed);
  models::Decoder& draft = draft_owned ? *draft_owned : *target;
  EngineOptions eo;
  eo.block_size = p.block_size;
  eo.prefill_chunk = 8;
  eo.max_sequences = 2;
  Engine plain(*target, nullptr, eo);
  Engine spec_engine(*target, nullptr, eo);
  SpeculativeDecoder spec(spec_engine, draft, {p.k});
  std::vector<std::vector<int32_t>> prompts = {prompt_of(11, tc.vocab_size, 1),
                                               prompt_of(3, tc.vocab_size, 2)};
  std::vector<GenerateResult> want = plain.generate(prompts, greedy(40));
  std::vector<GenerateResult> got = spec_engine.generate(prompts, greedy(40));
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(got[i].ids, want[i].ids) << "prompt " << i;
    ASSERT_EQ(got[i].samples.size(), want[i].samples.size());
    for (size_t j = 0; j < got[i].samples.size(); ++j)
      EXPECT_NEAR(got[i].samples[j].logprob, want[i].samples[j].logprob, 1e-4);
  }
  const SpeculativeStats& st = spec.stats();
  EXPECT_GT(st.steps, 0);
  if (&draft == target.get()) {
    EXPECT_EQ(st.accepted, st.proposed);  // a perfect draft
  }
  // Fewer target forwards than tokens: each step yields its accepted proposals plus one.
  EXPECT_EQ(st.emitted, st.accepted + st.steps);
  EXPECT_EQ(spec_engine.pool().used_blocks(), 0);
  EXPECT_EQ(spec.draft_pool().used_blocks(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Pairs, SpeculativeGreedy,
    ::testing::Values(Pair{"self", "llama", "llama", 11, 11, 0, 4, 4},
                      Pair{"other_random", "llama", "llama", 11, 99, 0, 3, 4},
                      Pair{"other_family_k1", "qwen3", "llama", 12, 5, 0, 1, 2},
                      Pair{"one_layer_k6", "qwen3", "qwen3", 12, 12, 1, 6, 16},
                      Pair{"sliding_target", "mistral", "llama", 13, 7, 0, 4, 2},
                      Pair{"sliding_draft", "llama", "mistral", 14, 8, 0, 5, 2},
                      Pair{"self_sliding", "mistral", "mistral", 13, 13, 0, 4, 2}),
    [](const auto& info) { return info.param.name; });

// Runs the target alone and speculatively on one prompt with the same options.
std::pair<GenerateResult, GenerateResult> both(models::Decoder& target, models::Decoder& draft,
                                               std::span<const int32_t> prompt,
                                               const GenerateOptions& o, EngineOptions eo = {}) {
  Engine plain(target, nullptr, eo), spec_engine(target, nullptr, eo);
  SpeculativeDecoder spec(spec_engine, draft, {4});
  return {plain.generate(prompt, o), spec_engine.generate(prompt, o)};
}

TEST(Speculative, StopTokenMaxTokensAndContextEndAsTheTarget) {
  models::ModelConfig c = tiny("llama");
  auto target = random_model(c, 21), draft = random_model(c, 22);
  std::vector<int32_t> prompt = prompt_of(5, c.vocab_size);
  std::vector<int32_t> free_run = Engine(*target, nullptr).generate(prompt, greedy(30)).ids;
  // Stop tokens at several places, also within a run of accepted proposals (self-draft).
  for (size_t k : {size_t(1), size_t(6), size_t(13)}) {
    GenerateOptions o = greedy(30);
    o.stop_ids = {free_run[k]};
    for (models::Decoder* d : {draft.get(), target.get()}) {
      auto [want, got] = both(*target, *d, prompt, o);
      EXPECT_EQ(got.ids, want.ids);
      EXPECT_EQ(got.finish, FinishReason::StopToken);
    }
  }
  for (int64_t max_tokens : {1, 2, 7}) {
    auto [want, got] = both(*target, *target, prompt, greedy(max_tokens));
    EXPECT_EQ(got.ids, want.ids);
    EXPECT_EQ(int64_t(got.ids.size()), max_tokens);
    EXPECT_EQ(got.finish, FinishReason::Length);
  }
  EngineOptions eo;
  eo.context = 13;
  auto [want, got] = both(*target, *target, prompt, greedy(100), eo);
  EXPECT_EQ(got.ids, want.ids);
  EXPECT_EQ(got.ids.size(), 8u);
  EXPECT_EQ(got.finish, FinishReason::Context);
}

TEST(Speculative, SessionKeepsWhatItEmitted) {
  models::ModelConfig c = tiny("llama");
  auto target = random_model(c, 23);
  Engine plain(*target, nullptr), e(*target, nullptr);
  SpeculativeDecoder spec(e, *target, {4});
  Session s(e);
  std::vector<int32_t> prompt = prompt_of(6, c.vocab_size);
  GenerateOptions o = greedy(10);
  o.stop_ids = {plain.generate(prompt, greedy(10)).ids[3]};
  std::vector<int32_t> want = plain.generate(prompt, o).ids;
  // The self-draft's proposals run past the stop token: the session keeps only what was emitted.
  GenerateResult r = e.generate(s, prompt, o);
  EXPECT_EQ(r.ids, want);
  EXPECT_EQ(s.cached_tokens(), int64_t(prompt.size() + r.ids.size()));
  prompt.insert(prompt.end(), r.ids.begin(), r.ids.end());
  prompt.push_back(5);
  EXPECT_EQ(e.generate(s, prompt, greedy(6)).ids, plain.generate(prompt, greedy(6)).ids);
}

TEST(Speculative, RefusesAMismatchedDraft) {
  auto target = random_model(tiny("llama"), 1);
  auto other_vocab = random_model(tiny_with("llama", {{"vocab_size", 60}}), 2);
  auto short_ctx = random_model(tiny_with("llama", {{"max_position_embeddings", 32}}), 2);
  Engine e(*target, nullptr);
  auto error_of = [&](models::Decoder& d, int64_t k) {
    try {
      SpeculativeDecoder spec(e, d, {k});
    } catch (const Error& err) {
      return std::string(err.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of(*other_vocab, 4).find("vocab_size 60, but the target's is 61"),
            std::string::npos);
  EXPECT_NE(error_of(*short_ctx, 4).find("max_position_embeddings 32"), std::string::npos);
  EXPECT_NE(error_of(*target, 0).find("draft tokens"), std::string::npos);
  EXPECT_EQ(error_of(*target, 4), "");
}

// Upper 0.1 % point of chi-square with `df` degrees of freedom (Wilson-Hilferty).
double chi2_critical(double df) {
  double z = 3.0902, a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

// Pearson's statistic of `counts` (n draws) against probabilities `p`, cells of expected count
// below 5 pooled; returns {statistic, degrees of freedom}.
std::pair<double, double> chi2(const std::map<int, double>& p, const std::map<int, int>& counts,
                               int n) {
  double stat = 0, pooled_e = 0, pooled_o = 0;
  int cells = 0;
  for (auto [cell, pr] : p) {
    double e = pr * n, o = counts.count(cell) ? counts.at(cell) : 0;
    if (e < 5) {
      pooled_e += e;
      pooled_o += o;
      continue;
    }
    stat += (o - e) * (o - e) / e;
    ++cells;
  }
  if (pooled_e > 0) {
    stat += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
    ++cells;
  }
  return {stat, cells - 1.0};
}

// The sampled rule: the first two tokens after the prompt (the second is the first one the
// speculative step chooses) must follow the target's joint distribution, not the draft's.
TEST(Speculative, SampledTokensFollowTheTargetsDistribution) {
  const int64_t vocab = 6;
  auto cfg = [&](double range) {
    return tiny_with("llama", {{"vocab_size", vocab}, {"initializer_range", range}});
  };
  auto target = random_model(cfg(0.5), 31), draft = random_model(cfg(0.5), 32);
  std::vector<int32_t> prompt = {1, 4, 2};
  SamplingParams sp;
  sp.temperature = 0.9;
  sp.top_k = 5;
  // The exact joint of (t1, t2) under a model: p(t1 | prompt) p(t2 | prompt, t1).
  auto joint = [&](models::Decoder& m) {
    NoGradGuard ng;
    auto dist = [&](std::vector<int32_t> ids) {
      std::vector<int64_t> x(ids.begin(), ids.end());
      Tensor l = m.forward(Tensor::from_vector(x, {1, int64_t(x.size())})).logits;
      Sampler s(sp);
      return s.distribution(l.select(1, l.size(1) - 1).select(0, 0).to_vector<float>());
    };
    std::map<int, double> out;
    std::vector<double> p1 = dist(prompt);
    for (int a = 0; a < vocab; ++a) {
      std::vector<int32_t> ids = prompt;
      ids.push_back(a);
      std::vector<double> p2 = dist(ids);
      for (int b = 0; b < vocab; ++b) out[a * vocab + b] = p1[size_t(a)] * p2[size_t(b)];
    }
    return out;
  };
  std::map<int, double> p = joint(*target), q = joint(*draft);
  Engine e(*target, nullptr);
  SpeculativeDecoder spec(e, *draft, {2});
  const int n = 3000;
  std::map<int, int> counts;
  GenerateOptions o;
  o.sampling = sp;
  o.max_tokens = 3;  // the step after the first token proposes one (and may add a third)
  for (int i = 0; i < n; ++i) {
    o.sampling.seed = uint64_t(i);
    GenerateResult r = e.generate(prompt, o);
    ASSERT_EQ(r.ids.size(), 3u);
    ++counts[r.ids[0] * vocab + r.ids[1]];
  }
  // Both branches of the rule ran: some proposals kept, some replaced.
  EXPECT_GT(spec.stats().accepted, 0);
  EXPECT_LT(spec.stats().accepted, spec.stats().proposed);
  auto [stat, df] = chi2(p, counts, n);
  EXPECT_LT(stat, chi2_critical(df)) << "df " << df;
  // The test can tell the draft's distribution from the target's at this n: sampling from q
  // would put the expected counts this far off.
  double expected_off = 0;
  for (auto [cell, pr] : p)
    expected_off += n * (q[cell] - pr) * (q[cell] - pr) / std::max(pr, 1e-9);
  EXPECT_GT(expected_off, 3 * chi2_critical(df));
}

}  // namespace
}  // namespace kiln::infer
