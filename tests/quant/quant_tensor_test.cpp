// quantize / dequantize on tensors: error within each format's bound, Q4_K against Q4_0, and the
// errors for shapes and values the formats cannot take.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "kiln/core/error.h"
#include "kiln/core/half.h"
#include "kiln/quant/blocks.h"
#include "kiln/quant/quantize.h"

namespace kiln::quant {
namespace {

Tensor gaussian(const Shape& s, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> v(size_t(numel_of(s)));
  for (float& f : v) f = dist(rng);
  return Tensor::from_vector(v, s);
}

double rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i] - b[i]) * double(a[i] - b[i]);
  return std::sqrt(s / double(a.size()));
}

// Largest error in each block of `block` elements, divided by that block's max |x|.
double worst_relative_to_amax(const std::vector<float>& x, const std::vector<float>& y,
                              size_t block) {
  double worst = 0;
  for (size_t b = 0; b < x.size(); b += block) {
    double amax = 0, err = 0;
    for (size_t i = b; i < b + block; ++i) {
      amax = std::max(amax, double(std::fabs(x[i])));
      err = std::max(err, double(std::fabs(x[i] - y[i])));
    }
    worst = std::max(worst, err / amax);
  }
  return worst;
}

TEST(QuantTensor, ErrorsStayWithinEachFormatsBound) {
  // Scales keep d a normal f16 (>= 2^-14): below that the f16 scale itself loses precision.
  for (float scale : {0.02f, 1.f, 300.f}) {
    Tensor x = gaussian({64, 512}, scale, 17);
    auto xv = x.to_vector<float>();
    // Q8_0: rounding to a step of d = amax/127 errs by at most d/2, plus the f16 rounding of d
    // (relative 2^-11) times |q| <= 127: in all at most 0.5/127 + 2^-11 of amax.
    auto y8 = dequantize(quantize(x, DType::Q8_0)).to_vector<float>();
    EXPECT_LE(worst_relative_to_amax(xv, y8, 32), 0.5 / 127 + 1.0 / 2048) << scale;
    // Q4_0: step amax/8; values on the side opposite the extreme can be clamped a full step
    // (q = 15 stands for 7 steps, not 8), so at most 1/8 of amax, plus f16 rounding of d.
    auto y4 = dequantize(quantize(x, DType::Q4_0)).to_vector<float>();
    EXPECT_LE(worst_relative_to_amax(xv, y4, 32), 1.0 / 8 + 8.0 / 2048) << scale;
    // Q4_K: a 4-bit grid over each 32-element sub-block's range (at most 2 amax) with 6-bit
    // scales: at most one step of the sub-block, 2 amax / 15.
    auto yk = dequantize(quantize(x, DType::Q4_K)).to_vector<float>();
    EXPECT_LE(worst_relative_to_amax(xv, yk, 32), 2.0 / 15) << scale;
  }
}

TEST(QuantTensor, RmseOnGaussianWeights) {
  Tensor x = gaussian({256, 1024}, 1.f, 23);
  auto xv = x.to_vector<float>();
  double r8 = rmse(xv, dequantize(quantize(x, DType::Q8_0)).to_vector<float>());
  double r4 = rmse(xv, dequantize(quantize(x, DType::Q4_0)).to_vector<float>());
  double rk = rmse(xv, dequantize(quantize(x, DType::Q4_K)).to_vector<float>());
  // Uniform rounding error over a step s has rms s / sqrt(12); for 32 N(0, 1) samples the block
  // max |x| is about 2.1, so Q8_0 is near 2.1 / 127 / 3.46 = 0.0048 and Q4_0 near 2.1 / 8 / 3.46
  // = 0.076. Q4_K fits each sub-block's range and refits by least squares, so it must beat Q4_0.
  EXPECT_LT(r8, 0.0055);
  EXPECT_GT(r8, 0.0040);
  EXPECT_LT(r4, 0.090);
  EXPECT_GT(r4, 0.065);
  EXPECT_LT(rk, 0.9 * r4);
  std::printf("rmse on N(0,1): q8_0 %.5f  q4_0 %.5f  q4_k %.5f\n", r8, r4, rk);
}

TEST(QuantTensor, ShapesDtypesAndRanks) {
  Tensor x = gaussian({2, 3, 256}, 1.f, 3);
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K}) {
    Tensor q = quantize(x, t);
    EXPECT_EQ(q.dtype(), t);
    EXPECT_EQ(q.sizes(), x.sizes());
    EXPECT_EQ(q.nbytes(), dtype_nbytes(t, 2 * 3 * 256));
    Tensor d = dequantize(q, DType::BF16);
    EXPECT_EQ(d.dtype(), DType::BF16);
    EXPECT_EQ(d.sizes(), x.sizes());
    // Quantizing a bf16 or strided input is quantizing its f32 contiguous copy.
    Tensor xt = x.transpose(0, 1).contiguous().transpose(0, 1);
    Tensor qt = quantize(xt, t);
    EXPECT_EQ(std::memcmp(qt.raw_data(), q.raw_data(), q.nbytes()), 0);
  }
}

template <class F>
void expect_error(F fn, const std::string& fragment) {
  try {
    fn();
    ADD_FAILURE() << "expected an error mentioning " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(QuantTensor, ClearErrors) {
  expect_error(
      [] {
        quantize(Tensor::zeros({3, 48}), DType::Q8_0);
      },
      "last dimension of shape [3, 48] is 48, not a multiple of the q8_0 block size 32");
  expect_error([] { quantize(Tensor::zeros({4, 128}), DType::Q4_K); }, "q4_k block size 256");
  expect_error([] { quantize(Tensor::zeros({4, 32}), DType::F16); }, "not a block type");
  expect_error([] { quantize(Tensor::zeros({4, 32}, DType::I32), DType::Q8_0); }, "i32");
  expect_error([] { quantize(Tensor::zeros({}), DType::Q8_0); }, "scalar");
  expect_error([] { dequantize(Tensor::zeros({4, 32})); }, "input is f32");
  expect_error(
      [] {
        dequantize(Tensor::zeros({1, 32}, DType::Q8_0), DType::I32);
      },
      "not a floating dtype");
  Tensor bad = Tensor::zeros({5, 64});
  bad.data<float>()[3 * 64 + 7] = std::nanf("");
  bad.data<float>()[4 * 64 + 1] = INFINITY;
  expect_error([&] { quantize(bad, DType::Q4_0); }, "row 3 of shape [5, 64] holds a non-finite");
}

}  // namespace
}  // namespace kiln::quant
