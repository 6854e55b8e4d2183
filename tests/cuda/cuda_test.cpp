// The CUDA backend against the CPU backend on shapes larger than the op suite's, plus what only a
// device backend has: host/device copies, the caching allocator, and errors raised from it.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "kiln/core/rng.h"
#include "kiln/ops/attention.h"
#include "kiln/ops/cross_entropy.h"
#include "kiln/ops/dropout.h"
#include "kiln/ops/embedding.h"
#include "kiln/ops/matmul.h"
#include "kiln/ops/norm.h"

namespace kiln {
namespace {

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no GPU visible";
  }
};

Tensor randn(const Shape& s, uint64_t seed) {
  Generator g(seed);
  Tensor t = Tensor::empty(s);
  normal_(t, 0, 1, g);
  return t;
}

// max |a - b| / max |b|
double rel_err(const Tensor& a, const Tensor& b) {
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    num = std::max(num, std::abs(x[i] - y[i]));
    den = std::max(den, std::abs(y[i]));
  }
  return num / den;
}

TEST_F(Cuda, StridedConvertingCopiesMatchTheCpu) {
  Tensor x = randn({37, 53}, 1);
  Tensor want = x.to(DType::BF16).transpose(0, 1).contiguous().to(DType::F32);
  Tensor got = x.to(Device::cuda()).to(DType::BF16).transpose(0, 1).contiguous().to(DType::F32);
  EXPECT_EQ(got.device(), Device::cuda());
  EXPECT_EQ(got.to(Device::cpu()).to_vector<float>(), want.to_vector<float>());
}

TEST_F(Cuda, FreedBlocksAreReused) {
  void* first;
  {
    Tensor t = Tensor::empty({1 << 20}, DType::F32, Device::cuda());
    first = t.raw_data();
  }
  Tensor again = Tensor::empty({1 << 20}, DType::F32, Device::cuda());
  EXPECT_EQ(again.raw_data(), first);
}

TEST_F(Cuda, DropoutMaskEqualsTheCpus) {
  Tensor x = randn({3, 1000}, 2);
  Tensor cpu = ops::dropout(x, 0.3, 1234, 77);
  Tensor gpu = ops::dropout(x.to(Device::cuda()), 0.3, 1234, 77);
  EXPECT_EQ(gpu.to_vector<float>(), cpu.to_vector<float>());
}

TEST_F(Cuda, EmbeddingIdOutOfRangeIsAnError) {
  Tensor w = randn({10, 4}, 3).to(Device::cuda());
  Tensor ids = Tensor::from_vector(std::vector<int64_t>{1, 10}, {2}).to(Device::cuda());
  EXPECT_THROW(ops::embedding(w, ids), Error);
}

TEST_F(Cuda, Bf16MatmulOnTensorCoresMatchesTheCpu) {
  Tensor a = randn({2, 192, 320}, 4).to(DType::BF16), b = randn({320, 256}, 5).to(DType::BF16);
  Tensor want = ops::matmul(a, b);
  Tensor got = ops::matmul(a.to(Device::cuda()), b.to(Device::cuda()));
  EXPECT_LT(rel_err(got.to(DType::F32), want.to(DType::F32)), 1e-2);
}

TEST_F(Cuda, CrossEntropyOverALargeVocabularyMatchesTheCpu) {
  Tensor logits = randn({64, 50304}, 6);
  std::vector<int64_t> t(64);
  for (int64_t i = 0; i < 64; ++i) t[size_t(i)] = (i * 7919) % 50304;
  t[5] = -100;
  Tensor targets = Tensor::from_vector(t, {64});
  ops::CrossEntropyParams p;
  p.z_loss = 1e-4;
  auto want = ops::cross_entropy(logits, targets, p);
  auto got = ops::cross_entropy(logits.to(Device::cuda()), targets.to(Device::cuda()), p);
  EXPECT_NEAR(got.loss.item(), want.loss.item(), 1e-5 * std::abs(want.loss.item()));
  Tensor one = Tensor::ones({});
  Tensor dw = ops::cross_entropy_backward(one, logits, targets, want, p);
  Tensor dg = ops::cross_entropy_backward(one.to(Device::cuda()), logits.to(Device::cuda()),
                                          targets.to(Device::cuda()), got, p);
  EXPECT_LT(rel_err(dg, dw), 1e-5);
}

// Weight and bias gradients are column sums over many row chunks (QK-norm's shape: few columns,
// many rows); rows that are not a multiple of the chunk, and columns not a multiple of the tile.
TEST_F(Cuda, NormParameterGradientsOverManyRowsMatchTheCpu) {
  for (auto [rows, d] : {std::pair<int64_t, int64_t>{40000, 64}, {3001, 100}, {7, 768}}) {
    SCOPED_TRACE(::testing::Message() << rows << " rows x " << d);
    Tensor x = randn({rows, d}, 20), dy = randn({rows, d}, 21), w = randn({d}, 22),
           b = randn({d}, 23);
    auto cuda = [](const Tensor& t) { return t.to(Device::cuda()); };
    auto rf = ops::rms_norm(x, w, 1e-6);
    auto rg = ops::rms_norm_backward(dy, x, w, rf.rstd, true, true);
    auto gf = ops::rms_norm(cuda(x), cuda(w), 1e-6);
    auto gg = ops::rms_norm_backward(cuda(dy), cuda(x), cuda(w), gf.rstd, true, true);
    EXPECT_LT(rel_err(gg.dweight, rg.dweight), 1e-5);
    EXPECT_LT(rel_err(gg.dx, rg.dx), 1e-5);
    auto lf = ops::layer_norm(x, w, b, 1e-5);
    auto lg = ops::layer_norm_backward(dy, x, w, lf, true, true, true);
    auto hf = ops::layer_norm(cuda(x), cuda(w), cuda(b), 1e-5);
    auto hg = ops::layer_norm_backward(cuda(dy), cuda(x), cuda(w), hf, true, true, true);
    EXPECT_LT(rel_err(hg.dweight, lg.dweight), 1e-5);
    EXPECT_LT(rel_err(hg.dbias, lg.dbias), 1e-5);
    // The same inputs give the same bits: the chunking is fixed, not scheduled.
    auto again = ops::rms_norm_backward(cuda(dy), cuda(x), cuda(w), gf.rstd, false, true);
    EXPECT_EQ(again.dweight.to(Device::cpu()).to_vector<float>(),
              gg.dweight.to(Device::cpu()).to_vector<float>());
  }
}

TEST_F(Cuda, GqaCausalAttentionMatchesTheCpu) {
  Tensor q = randn({2, 8, 77, 64}, 7), k = randn({2, 2, 77, 64}, 8), v = randn({2, 2, 77, 64}, 9);
  Tensor dout = randn({2, 8, 77, 64}, 10);
  ops::AttentionParams p;
  p.window = 33;
  auto want = ops::attention(q, k, v, p);
  auto wg = ops::attention_backward(dout, q, k, v, want, p);
  Device c = Device::cuda();
  auto got = ops::attention(q.to(c), k.to(c), v.to(c), p);
  auto gg = ops::attention_backward(dout.to(c), q.to(c), k.to(c), v.to(c), got, p);
  EXPECT_LT(rel_err(got.out, want.out), 1e-5);
  EXPECT_LT(rel_err(gg.dq, wg.dq), 1e-5);
  EXPECT_LT(rel_err(gg.dk, wg.dk), 1e-5);
  EXPECT_LT(rel_err(gg.dv, wg.dv), 1e-5);
}

// bf16 with head dims 64 and 128 takes the tensor-core forward and backward; lengths that are not
// multiples of its 64-row tiles, GQA, a window and fewer queries than keys (q_offset) are all
// exercised.
TEST_F(Cuda, Bf16TensorCoreAttentionForwardAndBackwardMatchTheCpu) {
  for (int64_t D : {64, 128}) {
    for (auto [T, S, window] :
         {std::tuple<int64_t, int64_t, int64_t>{300, 300, 0}, {300, 300, 100}, {37, 300, 0}}) {
      Tensor q = randn({2, 6, T, D}, 11).to(DType::BF16),
             k = randn({2, 2, S, D}, 12).to(DType::BF16);
      Tensor v = randn({2, 2, S, D}, 13).to(DType::BF16);
      ops::AttentionParams p;
      p.window = window;
      auto want = ops::attention(q, k, v, p);
      Device c = Device::cuda();
      auto got = ops::attention(q.to(c), k.to(c), v.to(c), p);
      EXPECT_LT(rel_err(got.out.to(DType::F32), want.out.to(DType::F32)), 2e-2)
          << "D " << D << " T " << T << " S " << S << " window " << window;
      EXPECT_LT(rel_err(got.lse, want.lse), 1e-2) << "D " << D << " T " << T;
      Tensor dout = randn({2, 6, T, D}, 14).to(DType::BF16);
      auto wg = ops::attention_backward(dout, q, k, v, want, p);
      auto gg = ops::attention_backward(dout.to(c), q.to(c), k.to(c), v.to(c), got, p);
      EXPECT_LT(rel_err(gg.dq.to(DType::F32), wg.dq.to(DType::F32)), 3e-2) << "dq, D " << D;
      EXPECT_LT(rel_err(gg.dk.to(DType::F32), wg.dk.to(DType::F32)), 3e-2) << "dk, D " << D;
      EXPECT_LT(rel_err(gg.dv.to(DType::F32), wg.dv.to(DType::F32)), 3e-2) << "dv, D " << D;
    }
  }
}

}  // namespace
}  // namespace kiln
