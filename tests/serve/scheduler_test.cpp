// The continuous-batching scheduler: a sequence's greedy tokens are the same alone and among 31
// others joining and leaving at different steps; queue limits, cancellation and timeouts free
// their slots and blocks.
#include <gtest/gtest.h>

#include <future>

#include "kiln/serve/scheduler.h"
#include "kiln/tokenizer/tokenizer.h"
#include "tiny_models.h"

namespace kiln::serve {
namespace {

using models::test::random_model;
using models::test::tiny;

struct Result {
  std::vector<int32_t> ids;
  std::vector<float> logprobs;  // compared bit for bit: the logits themselves must not move
  std::string finish;
};

// Submits a sequence; the future resolves when it ends.
std::future<Result> start(Scheduler& s, std::vector<int32_t> prompt, int64_t max_tokens,
                          std::shared_ptr<std::atomic<bool>> cancel = nullptr,
                          double timeout_s = 1e9, std::function<void()> hook = {}) {
  auto out = std::make_shared<Result>();
  auto done = std::make_shared<std::promise<Result>>();
  SequenceRequest r;
  r.prompt = std::move(prompt);
  r.gen.sampling.temperature = 0;
  r.gen.max_tokens = max_tokens;
  r.cancelled = cancel ? cancel : std::make_shared<std::atomic<bool>>(false);
  r.deadline = std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   std::chrono::duration<double>(timeout_s));
  r.events.on_token = [out, hook](const infer::Sample& smp, std::string_view) {
    out->ids.push_back(smp.id);
    out->logprobs.push_back(smp.logprob);
    if (hook) hook();
  };
  r.events.on_done = [out, done](const std::string& finish, const std::string&, int64_t tokens,
                                 const std::string& error) {
    EXPECT_EQ(error, "");
    EXPECT_EQ(tokens, int64_t(out->ids.size()));
    out->finish = finish;
    done->set_value(*out);
  };
  std::future<Result> f = done->get_future();
  EXPECT_TRUE(s.submit(std::move(r)));
  return f;
}

std::vector<int32_t> prompt_of(int64_t n, int64_t v, int64_t salt) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(int32_t((i * 13 + 3 + salt * 7) % v));
  return ids;
}

class BatchInvarianceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchInvarianceTest, AloneEqualsAmong31Others) {
  models::ModelConfig c = tiny(GetParam());
  auto m = random_model(c, 3);
  SchedulerOptions o;
  o.max_batch = 32;
  o.block_size = 4;
  o.prefill_chunk = 5;  // several chunks per prompt: prefills interleave with decode steps
  o.context = 64;
  Scheduler s(*m, nullptr, o);
  std::vector<Result> alone;
  for (int64_t i = 0; i < 32; ++i) {
    Result r = start(s, prompt_of(3 + i % 11, c.vocab_size, i), 8 + i % 5).get();
    EXPECT_EQ(r.finish, "length");
    alone.push_back(r);
  }
  std::vector<std::future<Result>> crowd;
  for (int64_t i = 0; i < 32; ++i)
    crowd.push_back(start(s, prompt_of(3 + i % 11, c.vocab_size, i), 8 + i % 5));
  for (int64_t i = 0; i < 32; ++i) {
    Result r = crowd[size_t(i)].get();
    EXPECT_EQ(r.ids, alone[size_t(i)].ids) << i;
    EXPECT_EQ(r.logprobs, alone[size_t(i)].logprobs) << i;
  }
  EXPECT_GT(s.stats().batch_rows.load(), s.stats().steps.load());  // batches of more than one
}

INSTANTIATE_TEST_SUITE_P(Families, BatchInvarianceTest,
                         ::testing::Values("llama", "qwen3", "mistral"));

// Prompts with a common start share its cached blocks, and the tokens are those computed without
// sharing: alone, in turn, or all at once.
TEST(Scheduler, SharedPrefixesGiveTheSameTokens) {
  models::ModelConfig c = tiny("qwen3");
  auto m = random_model(c, 5);
  std::vector<std::vector<int32_t>> prompts;
  for (int64_t i = 0; i < 8; ++i) {
    std::vector<int32_t> p = prompt_of(13, c.vocab_size, 0);  // the shared start
    for (int32_t t : prompt_of(1 + i % 6, c.vocab_size, i + 1)) p.push_back(t);
    prompts.push_back(p);
  }
  auto run = [&](bool prefix, bool together) {
    SchedulerOptions o;
    o.block_size = 4;
    o.prefill_chunk = 3;
    o.context = 64;
    o.prefix_cache = prefix;
    Scheduler s(*m, nullptr, o);
    std::vector<std::vector<float>> out;  // log-probabilities, compared bit for bit
    std::vector<std::future<Result>> fs;
    for (const auto& p : prompts) {
      fs.push_back(start(s, p, 10));
      if (!together) out.push_back(fs.back().get().logprobs);
    }
    if (together)
      for (auto& f : fs) out.push_back(f.get().logprobs);
    int64_t hits = s.stats().prefix_hit_tokens.load();
    if (!prefix) {
      EXPECT_EQ(hits, 0);
    } else if (!together) {
      EXPECT_EQ(hits, 12 * int64_t(prompts.size() - 1));
    }
    return out;
  };
  std::vector<std::vector<float>> reference = run(false, false);
  EXPECT_EQ(run(true, false), reference);  // each after the first reuses 12 tokens
  EXPECT_EQ(run(true, true), reference);
  EXPECT_EQ(run(false, true), reference);
}

TEST(Scheduler, QueueLimitCancellationAndTimeout) {
  models::ModelConfig c = tiny("llama");
  auto m = random_model(c, 3);
  SchedulerOptions o;
  o.max_batch = 1;
  o.max_queue = 1;
  o.context = 64;
  Scheduler s(*m, nullptr, o);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  // The first sequence's first token blocks the loop (its callback runs there) until the queue
  // has been checked: the slot is held, the second sequence waits, a third is refused.
  std::promise<void> token_seen, go_on;
  std::shared_future<void> go = go_on.get_future().share();
  auto first = std::make_shared<bool>(true);
  std::future<Result> a = start(s, prompt_of(4, c.vocab_size, 1), 50, cancel, 1e9, [&, first, go] {
    if (!*first) return;
    *first = false;
    token_seen.set_value();
    go.wait();
  });
  token_seen.get_future().wait();
  std::future<Result> b = start(s, prompt_of(4, c.vocab_size, 2), 3);  // waits in the queue
  SequenceRequest extra;
  extra.prompt = prompt_of(4, c.vocab_size, 3);
  extra.gen.max_tokens = 1;
  EXPECT_FALSE(s.submit(std::move(extra)));  // the queue is full
  *cancel = true;
  go_on.set_value();
  EXPECT_EQ(a.get().finish, "cancelled");
  EXPECT_EQ(b.get().finish, "length");
  Result t = start(s, prompt_of(4, c.vocab_size, 4), 50, nullptr, 0).get();
  EXPECT_EQ(t.finish, "timeout");
  while (s.stats().running.load() > 0) std::this_thread::yield();
  EXPECT_EQ(s.stats().kv_blocks_used.load(), 0);
}

// A KV budget of one full sequence: four sequences that each need all of it run one after
// another, none runs out of blocks midway, and the answers are those of a roomy pool.
TEST(Scheduler, SmallKvBudgetQueuesSequences) {
  models::ModelConfig c = tiny("llama");
  auto m = random_model(c, 7);
  auto run = [&](int64_t kv_tokens) {
    SchedulerOptions o;
    o.context = 32;
    o.block_size = 4;
    o.kv_tokens = kv_tokens;
    Scheduler s(*m, nullptr, o);
    EXPECT_EQ(s.pool().num_blocks(), kv_tokens > 0 ? 8 * c.num_hidden_layers : 32 * 8 * 2);
    std::vector<std::future<Result>> fs;
    for (int64_t i = 0; i < 4; ++i) fs.push_back(start(s, prompt_of(6, c.vocab_size, i), 26));
    std::vector<std::vector<int32_t>> out;
    for (auto& f : fs) {
      Result r = f.get();
      EXPECT_EQ(r.finish, "length");
      out.push_back(r.ids);
    }
    EXPECT_LE(s.pool().peak_used_blocks(), s.pool().num_blocks());
    return out;
  };
  EXPECT_EQ(run(32), run(0));
}

TEST(Scheduler, RefusesBadPrompts) {
  models::ModelConfig c = tiny("llama");
  auto m = random_model(c, 3);
  SchedulerOptions o;
  o.context = 16;
  Scheduler s(*m, nullptr, o);
  SequenceRequest r;
  r.gen.max_tokens = 1;
  EXPECT_THROW(s.submit(r), Error);  // empty
  r.prompt = prompt_of(16, c.vocab_size, 0);
  EXPECT_THROW(s.submit(r), Error);  // fills the context
  r.prompt = {int32_t(c.vocab_size)};
  EXPECT_THROW(s.submit(r), Error);  // id out of range
}

// Ids `n` sampled (temperature 1) tokens each for four sequences; with `tok`, text is decoded too.
std::vector<int32_t> sampled_ids(models::Decoder& m, const tokenizer::Tokenizer* tok, int64_t v) {
  Scheduler s(m, tok, SchedulerOptions{});
  std::vector<std::future<void>> done;
  auto ids = std::make_shared<std::vector<int32_t>>();
  auto mu = std::make_shared<std::mutex>();
  for (int64_t i = 0; i < 4; ++i) {
    auto p = std::make_shared<std::promise<void>>();
    done.push_back(p->get_future());
    SequenceRequest r;
    r.prompt = prompt_of(5, v / 2, i);
    r.gen.sampling.temperature = 1.0;
    r.gen.sampling.seed = uint64_t(i + 1);
    r.gen.max_tokens = 48;
    r.cancelled = std::make_shared<std::atomic<bool>>(false);
    r.deadline = std::chrono::steady_clock::time_point::max();
    r.events.on_token = [ids, mu](const infer::Sample& smp, std::string_view) {
      std::lock_guard lk(*mu);
      ids->push_back(smp.id);
    };
    r.events.on_done = [p](const std::string& finish, const std::string&, int64_t,
                           const std::string& error) {
      EXPECT_EQ(finish, "length");
      EXPECT_EQ(error, "");
      p->set_value();
    };
    EXPECT_TRUE(s.submit(std::move(r)));
  }
  for (auto& f : done) f.wait();
  return *ids;
}

// A GGUF's vocabulary is often padded past the tokenizer's ids; the server must never sample an
// id it cannot decode (it used to end every sequence of the batch, then abort in retire()).
TEST(Scheduler, NeverSamplesIdsTheTokenizerLacks) {
  models::ModelConfig c = tiny("llama");
  auto m = random_model(c, 5);
  int64_t half = c.vocab_size / 2;
  std::string vocab;
  for (int64_t i = 0; i < half; ++i)
    vocab += (i ? ",\"t" : "\"t") + std::to_string(i) + "\":" + std::to_string(i);
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::from_json(
      R"({"version":"1.0","model":{"type":"BPE","vocab":{)" + vocab + R"(},"merges":[]}})");
  ASSERT_EQ(tok.vocab_size(), half);
  // Without a tokenizer every id may come out (the test could fail)...
  std::vector<int32_t> free_ids = sampled_ids(*m, nullptr, c.vocab_size);
  EXPECT_TRUE(
      std::any_of(free_ids.begin(), free_ids.end(), [&](int32_t id) { return id >= half; }));
  // ...with it, only ids it can decode.
  std::vector<int32_t> ids = sampled_ids(*m, &tok, c.vocab_size);
  EXPECT_EQ(ids.size(), 4u * 48u);
  for (int32_t id : ids) EXPECT_LT(id, half);
}

}  // namespace
}  // namespace kiln::serve
