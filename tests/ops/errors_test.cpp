// Bad shapes and arguments raise kiln::Error naming the op and what it was given; nothing aborts.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "expect_error.h"
#include "kiln/autograd/functions.h"

namespace kiln {
namespace {

Tensor t(const Shape& s) {
  return Tensor::zeros(s);
}

TEST(OpErrors, BinaryShapes) {
  expect_error([] { add(t({2, 3}), t({4, 3})); }, {"add", "[2, 3]", "[4, 3]"});
  expect_error([] { mul(t({5}), t({2, 4})); }, {"mul", "[5]", "[2, 4]"});
  expect_error([] { where(Tensor::zeros({3}, DType::U8), t({2}), t({3})); },
               {"where", "[3]", "[2]"});
}

TEST(OpErrors, MatmulAndLinear) {
  expect_error([] { matmul(t({2, 3}), t({4, 5})); }, {"matmul", "[2, 3]", "[4, 5]"});
  expect_error([] { linear(t({2, 3}), t({4, 5})); }, {"linear", "[2, 3]", "[4, 5]"});
  expect_error([] { linear(t({2, 5}), t({4, 5}), t({3})); }, {"linear", "[3]", "4"});
}

TEST(OpErrors, ConcatAndSplit) {
  expect_error([] { concat({t({2, 3}), t({3, 4})}, 1); }, {"concat", "[2, 3]", "[3, 4]"});
  expect_error([] { concat({t({2, 3}), t({2, 3, 1})}, 0); }, {"concat", "[2, 3]", "[2, 3, 1]"});
  expect_error([] { concat({t({2, 3})}, 2); }, {"concat", "dimension 2", "[2, 3]"});
  expect_error([] { concat({}, 0); }, {"concat"});
  expect_error(
      [] {
        concat({t({2}), Tensor::zeros({2}, DType::F64)}, 0);
      },
      {"concat", "f32", "f64"});
  expect_error([] { split(t({4, 6}), {2, 3}, 1); }, {"split", "[2, 3]", "[4, 6]"});
}

TEST(OpErrors, Embedding) {
  Tensor w = t({5, 4});
  expect_error(
      [&] {
        embedding(w, Tensor::from_vector<int64_t>({1, 7, 2}, {3}));
      },
      {"embedding", "id 7", "5"});
  expect_error([&] { embedding(w, Tensor::from_vector<int32_t>({-1}, {1})); },
               {"embedding", "id -1", "5"});
  expect_error([&] { embedding(w, t({3})); }, {"embedding", "i32 or i64", "f32"});
  expect_error(
      [&] {
        embedding(t({5, 4, 2}), Tensor::zeros({3}, DType::I64));
      },
      {"embedding", "[5, 4, 2]"});
}

TEST(OpErrors, SoftmaxAndReductions) {
  expect_error([] { softmax(t({3, 4}), 2); }, {"softmax", "dimension 2", "[3, 4]"});
  expect_error([] { log_softmax(t({3, 4}), -3); }, {"log_softmax", "dimension -3", "[3, 4]"});
  expect_error([] { softmax(Tensor::zeros({3}, DType::I64), 0); }, {"softmax", "i64"});
  expect_error([] { max(t({3, 0}), 1); }, {"max", "[3, 0]"});
}

TEST(OpErrors, Dropout) {
  expect_error([] { dropout(t({3}), 1.5, true); }, {"dropout", "1.5"});
}

}  // namespace
}  // namespace kiln
