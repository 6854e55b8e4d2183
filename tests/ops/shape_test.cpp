// concat / split behaviour the reference cases cannot show: views, empty pieces, and gradients of
// pieces that were never used.
#include <gtest/gtest.h>

#include "kiln/autograd/functions.h"

namespace kiln {
namespace {

TEST(Shape, SplitReturnsViews) {
  Tensor x = Tensor::arange(12, DType::F32).reshape({3, 4});
  std::vector<Tensor> parts = split(x, {1, 3}, 1);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].sizes(), (Shape{3, 3}));
  EXPECT_EQ(parts[1].storage(), x.storage());
  EXPECT_EQ(parts[1].to_vector<float>(), (std::vector<float>{1, 2, 3, 5, 6, 7, 9, 10, 11}));
}

TEST(Shape, ConcatSkipsEmptyPieces) {
  Tensor a = Tensor::zeros({2, 0}), b = Tensor::arange(6, DType::F32).reshape({2, 3});
  Tensor y = concat({a, b, a}, 1);
  EXPECT_EQ(y.sizes(), (Shape{2, 3}));
  EXPECT_EQ(y.to_vector<float>(), b.to_vector<float>());
}

TEST(Shape, ConcatOfStridedInputs) {
  Tensor x = Tensor::arange(6, DType::F64).reshape({2, 3});
  Tensor y = concat({x.transpose(0, 1), x.transpose(0, 1)}, 0);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5, 0, 3, 1, 4, 2, 5}));
}

TEST(Shape, UnusedSplitPiecesGetZeroGradient) {
  Tensor x = Tensor::ones({2, 5}).set_requires_grad(true);
  std::vector<Tensor> parts = split(x, {2, 1, 2}, 1);
  backward(sum(mul_scalar(parts[1], 3.0)));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 0, 3, 0, 0, 0, 0, 3, 0, 0}));
}

TEST(Shape, ConcatGradientOnlyForInputsThatNeedIt) {
  Tensor a = Tensor::ones({2, 2}).set_requires_grad(true), b = Tensor::ones({1, 2});
  backward(sum(mul_scalar(concat({b, a}, 0), 2.0)));
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{2, 2, 2, 2}));
  EXPECT_FALSE(b.grad().defined());
}

}  // namespace
}  // namespace kiln
