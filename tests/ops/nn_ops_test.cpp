// The fused model ops beyond what the PyTorch cases pin down: bad arguments raise kiln::Error
// naming the op and what it was given, and the edge cases where kiln defines its own answer (every
// cross-entropy target ignored, every key masked) give it.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "expect_error.h"
#include "kiln/autograd/functions.h"
#include "kiln/core/rng.h"

namespace kiln {
namespace {

Tensor t(const Shape& s, DType dt = DType::F32) {
  return Tensor::zeros(s, dt);
}

Tensor randn(const Shape& s) {
  Tensor x = Tensor::empty(s);
  normal_(x, 0.0, 1.0);
  return x;
}

TEST(NnOpErrors, Norms) {
  expect_error([] { rms_norm(t({2, 8}), t({7}), 1e-6); }, {"rms_norm", "weight", "[7]", "[2, 8]"});
  expect_error([] { rms_norm(t({2, 8}), t({8}, DType::F64), 1e-6); }, {"rms_norm", "f32", "f64"});
  expect_error([] { rms_norm(t({2, 0}), Tensor(), 1e-6); }, {"rms_norm", "[2, 0]"});
  expect_error([] { rms_norm(t({2, 8}), t({8}), -1.0); }, {"rms_norm", "eps", "-1"});
  expect_error([] { rms_norm(t({2, 8}, DType::I64), Tensor(), 1e-6); }, {"rms_norm", "i64"});
  expect_error(
      [] {
        layer_norm(t({3, 5}), t({5}), t({4}), 1e-5);
      },
      {"layer_norm", "bias", "[4]", "[3, 5]"});
}

TEST(NnOpErrors, SwigluAndRope) {
  expect_error([] { swiglu(t({2, 6}), t({2, 5})); }, {"swiglu", "[2, 6]", "[2, 5]"});
  expect_error(
      [] {
        rope(t({1, 2, 3, 8}), t({1, 3, 6}), t({1, 3, 6}));
      },
      {"rope", "[1, 3, 6]", "[1, 2, 3, 8]"});
  expect_error(
      [] {
        rope(t({2, 2, 3, 8}), t({3, 3, 4}), t({3, 3, 4}));
      },
      {"rope", "[3, 3, 4]", "[2, 2, 3, 8]"});
  expect_error(
      [] {
        rope(t({1, 2, 3, 8}), t({1, 3, 4}), t({1, 3, 2}));
      },
      {"rope", "cos", "[1, 3, 4]", "[1, 3, 2]"});
  expect_error([] { rope(t({2, 3, 8}), t({1, 3, 4}), t({1, 3, 4})); }, {"rope", "x", "[2, 3, 8]"});
}

TEST(NnOpErrors, Attention) {
  Tensor q = t({1, 4, 3, 8}), k = t({1, 2, 5, 8}), v = t({1, 2, 5, 8});
  expect_error(
      [&] {
        attention(q, t({1, 3, 5, 8}), t({1, 3, 5, 8}));
      },
      {"attention", "multiple", "[1, 4, 3, 8]", "[1, 3, 5, 8]"});
  expect_error(
      [&] {
        attention(q, t({1, 2, 5, 6}), v);
      },
      {"attention", "head dim", "[1, 2, 5, 6]"});
  expect_error([&] { attention(q, k, t({1, 2, 4, 8})); }, {"attention", "[1, 2, 4, 8]"});
  expect_error(
      [&] {
        attention(q, t({2, 2, 5, 8}), t({2, 2, 5, 8}));
      },
      {"attention", "batch", "[2, 2, 5, 8]"});
  expect_error([&] { attention(t({1, 4, 3}), k, v); }, {"attention", "q", "[1, 4, 3]"});
  AttentionOptions o;
  o.bias = t({4, 3, 4});
  expect_error([&] { attention(q, k, v, o); }, {"attention", "bias", "[4, 3, 4]", "[1, 4, 3, 5]"});
  o = {};
  o.key_padding = t({1, 5});
  expect_error([&] { attention(q, k, v, o); }, {"attention", "key_padding", "u8", "f32"});
  o.key_padding = t({1, 4}, DType::U8);
  expect_error([&] { attention(q, k, v, o); }, {"attention", "key_padding", "[1, 5]", "[1, 4]"});
  o = {};
  o.window = -2;
  expect_error([&] { attention(q, k, v, o); }, {"attention", "window", "-2"});
  // More queries than keys leaves the default q_offset (S - T) negative.
  expect_error([&] { attention(t({1, 4, 6, 8}), k, v); }, {"attention", "6 queries", "5 keys"});
}

TEST(NnOpErrors, CrossEntropy) {
  Tensor x = t({3, 5});
  expect_error(
      [&] {
        cross_entropy(x, Tensor::from_vector<int64_t>({0, 5, 1}, {3}));
      },
      {"cross_entropy", "target 5", "5 classes"});
  expect_error(
      [&] {
        cross_entropy(x, Tensor::from_vector<int32_t>({0, -3, 1}, {3}));
      },
      {"cross_entropy", "target -3", "5 classes"});
  expect_error(
      [&] {
        cross_entropy(x, Tensor::from_vector<int64_t>({0, 1}, {2}));
      },
      {"cross_entropy", "2 targets", "[3, 5]"});
  expect_error([&] { cross_entropy(x, t({3})); }, {"cross_entropy", "i32 or i64", "f32"});
  CrossEntropyOptions o;
  o.label_smoothing = 1.5;
  expect_error([&] { cross_entropy(x, Tensor::zeros({3}, DType::I64), o); },
               {"cross_entropy", "label_smoothing", "1.5"});
  o.label_smoothing = 0.1;
  o.focal_gamma = 2;
  expect_error([&] { cross_entropy(x, Tensor::zeros({3}, DType::I64), o); },
               {"cross_entropy", "focal_gamma", "label_smoothing"});
  o.label_smoothing = 0;
  o.focal_gamma = -1;
  expect_error([&] { cross_entropy(x, Tensor::zeros({3}, DType::I64), o); },
               {"cross_entropy", "focal_gamma", "-1"});
}

TEST(NnOps, FocalLossNearCertainTargetHasFiniteZeroGradient) {
  // p_t rounds to 1: (1 - p_t)^(gamma - 1) alone would be inf for gamma < 1.
  Tensor x = Tensor::from_vector<float>({200.f, 0.f, 0.f}, {1, 3}).set_requires_grad(true);
  CrossEntropyOptions o;
  o.focal_gamma = 0.5;
  Tensor loss = cross_entropy(x, Tensor::zeros({1}, DType::I64), o);
  EXPECT_EQ(loss.item(), 0.0);
  backward(loss);
  for (float g : x.grad().to_vector<float>()) EXPECT_EQ(g, 0.0f);
}

TEST(NnOps, CrossEntropyAllIgnoredIsZero) {
  Tensor x = randn({4, 7}).set_requires_grad(true);
  Tensor tg = Tensor::full({4}, -100, DType::I64);
  Tensor loss = cross_entropy(x, tg);
  EXPECT_EQ(loss.item(), 0.0);
  backward(loss);
  for (float g : x.grad().to_vector<float>()) EXPECT_EQ(g, 0.0f);
}

TEST(NnOps, AttentionFullyMaskedRowsAreZero) {
  // Every key padded in batch 0: its output and its gradients are exactly zero, not NaN.
  Tensor q = randn({2, 2, 3, 16}).set_requires_grad(true);
  Tensor k = randn({2, 1, 5, 16}).set_requires_grad(true);
  Tensor v = randn({2, 1, 5, 16}).set_requires_grad(true);
  AttentionOptions o;
  o.causal = false;
  std::vector<uint8_t> pad(10, 0);
  for (int j = 0; j < 5; ++j) pad[size_t(j)] = 1;
  o.key_padding = Tensor::from_vector(pad, {2, 5});
  Tensor y = attention(q, k, v, o);
  backward(y, Tensor::ones(y.sizes()));
  std::vector<float> out = y.to_vector<float>(), dq = q.grad().to_vector<float>();
  std::vector<float> dk = k.grad().to_vector<float>();
  for (size_t i = 0; i < out.size(); ++i) {
    if (i < out.size() / 2) {
      EXPECT_EQ(out[i], 0.0f) << i;
    } else {
      EXPECT_FALSE(std::isnan(out[i])) << i;
    }
  }
  for (size_t i = 0; i < dq.size() / 2; ++i) EXPECT_EQ(dq[i], 0.0f) << i;
  for (size_t i = 0; i < dk.size() / 2; ++i) EXPECT_EQ(dk[i], 0.0f) << i;
}

}  // namespace
}  // namespace kiln
