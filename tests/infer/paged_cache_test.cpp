// The paged KV cache against the dense cache and a full forward without any cache.
#include <gtest/gtest.h>

#include "kiln/autograd/functions.h"
#include "kiln/autograd/grad_mode.h"
#include "kiln/infer/paged_kv_cache.h"
#include "kiln/infer/paged_row_caches.h"
#include "kiln/ops/matmul.h"
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

// Runs of keys longer than the kernel scores at once (64), in blocks larger than that, at a
// head_dim of whole vectors.
TEST(PagedCache, AttendInPlaceOverLongBlocks) {
  NoGradGuard ng;
  const int64_t d = 64;
  KvLayout l{1, 2, d, DType::F32, {0}};
  BlockPool pool(l, 80, 4);
  PagedKvCache in_place(pool, 0), gathered(pool, 0);
  Generator g(7);
  auto rnd = [&](Shape s) {
    Tensor x = Tensor::empty(s);
    normal_(x, 0.0, 2.0, g);
    return x;
  };
  for (int64_t step = 0; step < 150; ++step) {
    Tensor q = rnd({1, 6, 1, d}), k = rnd({1, 2, 1, d}), v = rnd({1, 2, 1, d});
    Tensor got = in_place.attend(0, q, k, v);
    auto [ks, vs] = gathered.append(0, k, v);
    EXPECT_LT(max_abs_diff(got, attention(q, ks, vs)), 1e-5) << "step " << step;
  }
}

// The server's decode step: every row of a batch over one pool, each with its own length and
// window, in one call, bit-identical to that row's own attend() on a twin cache.
TEST(PagedCache, RowsAttendEachRowAsItsOwnCallAlone) {
  NoGradGuard ng;
  const int64_t d = 20, rows = 5;
  for (int64_t window : {0, 6}) {
    KvLayout l{1, 2, d, DType::F32, {window}};
    BlockPool pool(l, 4, 256);
    std::vector<std::unique_ptr<PagedKvCache>> batch, twins;
    Generator g(uint64_t(11 + window));
    auto rnd = [&](Shape s) {
      Tensor x = Tensor::empty(s);
      normal_(x, 0.0, 1.0, g);
      return x;
    };
    for (int64_t r = 0; r < rows; ++r) {  // different lengths before the batched steps
      batch.push_back(std::make_unique<PagedKvCache>(pool));
      twins.push_back(std::make_unique<PagedKvCache>(pool));
      for (int64_t t = 0; t < 3 * r + 1; ++t) {
        Tensor q = rnd({1, 4, 1, d}), k = rnd({1, 2, 1, d}), v = rnd({1, 2, 1, d});
        batch.back()->attend(0, q, k, v);
        twins.back()->attend(0, q, k, v);
      }
    }
    std::vector<PagedKvCache*> ptrs;
    for (auto& c : batch) ptrs.push_back(c.get());
    for (int64_t step = 0; step < 9; ++step) {
      Tensor q = rnd({rows, 4, 1, d}), k = rnd({rows, 2, 1, d}), v = rnd({rows, 2, 1, d});
      PagedRowCaches together(ptrs);
      Tensor got = together.attend(0, q, k, v);
      ASSERT_TRUE(got.defined());
      for (int64_t r = 0; r < rows; ++r) {
        Tensor want =
            twins[size_t(r)]->attend(0, q.narrow(0, r, 1), k.narrow(0, r, 1), v.narrow(0, r, 1));
        EXPECT_EQ(max_abs_diff(got.narrow(0, r, 1), want), 0.0)
            << "window " << window << " step " << step << " row " << r;
      }
    }
    // A packed batch (prefill) is not the decode kernel's: undefined, nothing appended.
    PagedRowCaches packed(ptrs, std::vector<int64_t>(size_t(rows), 1));
    int64_t before = batch[0]->length();
    EXPECT_FALSE(packed.attend(0, rnd({1, 4, rows, d}), rnd({1, 2, rows, d}), rnd({1, 2, rows, d}))
                     .defined());
    EXPECT_EQ(batch[0]->length(), before);
  }
}

// Several sequences' prompt chunks packed into one forward (the server's prefill) give each
// sequence's last logits and cache bit for bit as its chunks fed alone, in batch-invariant mode.
TEST_P(PagedCacheTest, PackedPrefillEqualsEachSequenceAlone) {
  models::ModelConfig c = tiny(GetParam());
  auto m = random_model(c, 5);
  NoGradGuard ng;
  ops::BatchInvariantGuard invariant;
  BlockPool pool(kv_layout(c, DType::F32), 4, 512);
  const std::vector<int64_t> lens = {3, 7, 1, 5};
  std::vector<std::unique_ptr<PagedKvCache>> together, alone;
  for (size_t r = 0; r < lens.size(); ++r) {
    together.push_back(std::make_unique<PagedKvCache>(pool));
    alone.push_back(std::make_unique<PagedKvCache>(pool));
  }
  std::vector<PagedKvCache*> ptrs;
  for (auto& p : together) ptrs.push_back(p.get());
  for (int64_t round = 0; round < 2; ++round) {  // the second round attends over the first's keys
    std::vector<int64_t> ids, pos;
    std::vector<Tensor> want;
    for (size_t r = 0; r < lens.size(); ++r) {
      std::vector<int64_t> s = seq(lens[r], c.vocab_size, int64_t(r) + 10 * round);
      int64_t past = alone[r]->length();
      for (int64_t i = 0; i < lens[r]; ++i) pos.push_back(past + i);
      ids.insert(ids.end(), s.begin(), s.end());
      want.push_back(m->forward(slice_ids(s, 0, lens[r]), Tensor(), alone[r].get(), true)
                         .logits.select(1, 0)
                         .select(0, 0)
                         .clone());
    }
    int64_t t = int64_t(ids.size());
    PagedRowCaches rows(ptrs, lens);
    Tensor got =
        m->forward(Tensor::from_vector(ids, {1, t}), Tensor::from_vector(pos, {1, t}), &rows, true)
            .logits;
    ASSERT_EQ(got.sizes(), (Shape{1, int64_t(lens.size()), c.vocab_size}));
    for (size_t r = 0; r < lens.size(); ++r) {
      EXPECT_EQ(max_abs_diff(got.select(0, 0).select(0, int64_t(r)), want[r]), 0.0)
          << "round " << round << " row " << r;
      EXPECT_EQ(together[r]->length(), alone[r]->length());
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
