// The paged KV cache against the dense cache and a full forward without any cache.
#include <gtest/gtest.h>

#include "kiln/autograd/functions.h"
#include "kiln/autograd/grad_mode.h"
#include "kiln/infer/paged_kv_cache.h"
#include "tiny_models.h"

namespace kiln::infer {
namespace {

using models::test::max_abs_diff;
using models::test::random_model;
using models::test::tiny;

std::vector<int64_t> seq(int64_t n, int64_t v, int64_t salt = 0) {
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back((i * 17 + 5 + salt * 11) % v);
  return ids;
}

Tensor slice_ids(const std::vector<int64_t>& ids, int64_t from, int64_t to) {
  return Tensor::from_vector(std::vector<int64_t>(ids.begin() + from, ids.begin() + to),
                             {1, to - from});
}

// Feeds `ids` in the given chunk sizes through `cache`; returns logits of every position [T, V].
Tensor feed(models::Decoder& m, const std::vector<int64_t>& ids, nn::KvCache& cache,
            const std::vector<int64_t>& chunks) {
  std::vector<Tensor> parts;
  int64_t at = 0;
  for (size_t i = 0; at < int64_t(ids.size()); ++i) {
    int64_t n = std::min(i < chunks.size() ? chunks[i] : 1, int64_t(ids.size()) - at);
    parts.push_back(
        m.forward(slice_ids(ids, at, at + n), Tensor(), &cache).logits.select(0, 0).clone());
    at += n;
  }
  return concat(parts, 0);
}

class PagedCacheTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PagedCacheTest, MatchesDenseCacheAndFullForward) {
  NoGradGuard ng;
  models::ModelConfig c = tiny(GetParam());
  auto m = random_model(c, 3);
  std::vector<int64_t> ids = seq(19, c.vocab_size);
  Tensor full = m->forward(slice_ids(ids, 0, 19)).logits.select(0, 0);
  BlockPool pool(kv_layout(c, DType::F32), 4, 64);
  PagedKvCache paged(pool);
  nn::DenseKvCache dense(c.num_hidden_layers);
  std::vector<int64_t> chunks = {5, 3, 1, 6};  // crosses block boundaries mid-chunk
  Tensor p = feed(*m, ids, paged, chunks), d = feed(*m, ids, dense, chunks);
  EXPECT_LT(max_abs_diff(p, full), 1e-4);
  EXPECT_LT(max_abs_diff(p, d), 1e-5);
  EXPECT_EQ(paged.length(), 19);
}

INSTANTIATE_TEST_SUITE_P(Families, PagedCacheTest,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "qwen3_moe"));

TEST(PagedCache, SlidingLayersFreeBlocksOutsideTheirWindow) {
  NoGradGuard ng;
  models::ModelConfig c = tiny("mistral");  // every layer slides, window 3
  ASSERT_EQ(c.sliding_window, 3);
  auto m = random_model(c, 4);
  BlockPool pool(kv_layout(c, DType::F32), 2, 64);
  PagedKvCache cache(pool);
  std::vector<int64_t> ids = seq(30, c.vocab_size);
  Tensor full = m->forward(slice_ids(ids, 0, 30)).logits.select(0, 0);
  Tensor p = feed(*m, ids, cache, {4});
  EXPECT_LT(max_abs_diff(p, full), 1e-4);
  // Window 3, one token per step: keys from position 28 on are needed, in blocks of 2.
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) EXPECT_EQ(cache.first_position(l), 26);
  EXPECT_LE(cache.blocks_held(), 2 * c.num_hidden_layers);
  EXPECT_EQ(pool.used_blocks(), cache.blocks_held());
  EXPECT_LE(pool.peak_used_blocks(), BlockPool::blocks_needed(pool.layout(), 2, 30, 4));
}

TEST(PagedCache, InterleavedSequencesShareThePoolAndBlocksAreReused) {
  NoGradGuard ng;
  models::ModelConfig c = tiny("qwen3");
  auto m = random_model(c, 5);
  BlockPool pool(kv_layout(c, DType::F32), 4, 2 * 2 * 4);  // two sequences of 16 tokens
  std::vector<int64_t> a = seq(13, c.vocab_size, 1), b = seq(16, c.vocab_size, 2);
  Tensor full_a = m->forward(slice_ids(a, 0, 13)).logits.select(0, 0);
  Tensor full_b = m->forward(slice_ids(b, 0, 16)).logits.select(0, 0);
  {
    PagedKvCache ca(pool), cb(pool);
    std::vector<Tensor> la, lb;
    for (int64_t t = 0; t < 16; ++t) {  // alternate one token of each
      if (t < 13)
        la.push_back(m->forward(slice_ids(a, t, t + 1), Tensor(), &ca).logits.select(0, 0).clone());
      lb.push_back(m->forward(slice_ids(b, t, t + 1), Tensor(), &cb).logits.select(0, 0).clone());
    }
    EXPECT_LT(max_abs_diff(concat(la, 0), full_a), 1e-4);
    EXPECT_LT(max_abs_diff(concat(lb, 0), full_b), 1e-4);
    EXPECT_EQ(pool.free_blocks(), 0);
  }
  EXPECT_EQ(pool.free_blocks(), pool.num_blocks());  // both ended: every block is back
  for (int round = 0; round < 2; ++round) {          // reused blocks hold no stale state
    PagedKvCache cb(pool);
    EXPECT_LT(max_abs_diff(feed(*m, b, cb, {7, 2}), full_b), 1e-4);
    cb.reset();
    EXPECT_EQ(cb.length(), 0);
    EXPECT_EQ(pool.free_blocks(), pool.num_blocks());
  }
}

// The decode step's in-place attention over the blocks against the gathered keys and values
// and the attention op, step by step past several block boundaries and sliding windows.
TEST(PagedCache, AttendInPlaceEqualsGatherThenAttention) {
  NoGradGuard ng;
  for (int64_t window : {0, 5, 9}) {
    for (int64_t d : {8, 20}) {
      KvLayout l{1, 2, d, DType::F32, {window}};
      BlockPool pool(l, 4, 16);
      PagedKvCache in_place(pool, 0), gathered(pool, 0);
      Generator g(uint64_t(window * 100 + d));
      auto rnd = [&](Shape s) {
        Tensor x = Tensor::empty(s);
        normal_(x, 0.0, 1.0, g);
        return x;
      };
      for (int64_t step = 0; step < 23; ++step) {
        Tensor q = rnd({1, 4, 1, d}), k = rnd({1, 2, 1, d}), v = rnd({1, 2, 1, d});
        Tensor got = in_place.attend(0, q, k, v);
        ASSERT_TRUE(got.defined());
        auto [ks, vs] = gathered.append(0, k, v);
        AttentionOptions o;
        o.window = window;
        Tensor want = attention(q, ks, vs, o);
        EXPECT_LT(max_abs_diff(got, want), 1e-5)
            << "window " << window << " d " << d << " step " << step;
      }
      EXPECT_EQ(in_place.blocks_held(), gathered.blocks_held());
    }
  }
}

TEST(PagedCache, ReportsBytes) {
  models::ModelConfig c = tiny("llama");  // 2 layers, 2 kv heads of 8
  BlockPool pool(kv_layout(c, DType::F32), 16, 10);
  EXPECT_EQ(pool.bytes_per_token_layer(), 2 * 2 * 8 * 4);
  EXPECT_EQ(pool.bytes_per_token(), 2 * pool.bytes_per_token_layer());
  EXPECT_EQ(pool.block_bytes(), 16 * pool.bytes_per_token_layer());
  EXPECT_EQ(pool.bytes_total(), 10 * pool.block_bytes());
  EXPECT_EQ(BlockPool::blocks_needed(pool.layout(), 16, 33, 8, 3), 3 * 2 * 3);
}

TEST(PagedCache, ErrorsNameTheProblem) {
  models::ModelConfig c = tiny("llama");
  auto m = random_model(c, 6);
  BlockPool pool(kv_layout(c, DType::F32), 4, 2);  // one block per layer
  PagedKvCache cache(pool);
  {
    NoGradGuard ng;
    try {
      m->forward(slice_ids(seq(5, c.vocab_size), 0, 5), Tensor(), &cache);
      FAIL() << "expected the pool to run out";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("blocks of 4 tokens are in use"), std::string::npos)
          << e.what();
    }
  }
  PagedKvCache other(pool);
  try {
    m->forward(slice_ids(seq(2, c.vocab_size), 0, 2), Tensor(), &other);
    FAIL() << "expected grad mode to be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NoGradGuard"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kiln::infer
