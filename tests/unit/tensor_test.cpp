#include <gtest/gtest.h>

#include <mutex>
#include "kiln/autograd/functions.h"

#include "kiln/core/tensor.h"
#include "kiln/core/thread_pool.h"

namespace kiln {
namespace {

TEST(Tensor, ViewsShareStorage) {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor tr = t.transpose(0, 1);
  EXPECT_EQ(tr.sizes(), (Shape{3, 2}));
  EXPECT_FALSE(tr.is_contiguous());
  EXPECT_EQ(tr.storage(), t.storage());
  EXPECT_EQ(tr.contiguous().to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  Tensor n = t.narrow(1, 1, 2);
  EXPECT_EQ(n.to_vector<float>(), (std::vector<float>{1, 2, 4, 5}));
  Tensor e = Tensor::from_vector<float>({1, 2}, {2, 1}).expand({2, 3});
  EXPECT_EQ(e.stride(1), 0);
  EXPECT_EQ(e.to_vector<float>(), (std::vector<float>{1, 1, 1, 2, 2, 2}));
}

TEST(Tensor, ReshapeErrorsNameShapes) {
  Tensor t = Tensor::zeros({2, 3});
  try {
    t.reshape({4, 2});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4, 2]"), std::string::npos) << e.what();
  }
}

TEST(Tensor, DtypeRoundTrip) {
  Tensor t = Tensor::from_vector<float>({1.0f, -2.5f, 3.140625f}, {3});
  EXPECT_EQ(t.to(DType::BF16).to(DType::F32).to_vector<float>(),
            (std::vector<float>{1.0f, -2.5f, 3.140625f}));
  EXPECT_EQ(t.to(DType::F16).to(DType::F32).to_vector<float>(),
            (std::vector<float>{1.0f, -2.5f, 3.140625f}));
}

TEST(Autograd, MatmulAddSum) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<double>({5, 6}, {2});
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  Tensor y = sum(add(matmul(a, a), b));
  backward(y);
  // d/da sum(a a) = 1 a^T + a^T 1 -> [[4+3, 4+7],[6+3,6+7]] computed row/col sums
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{7, 11, 9, 13}));
  EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{2, 2}));
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {
TEST(ThreadPool, ExceptionsReachTheCaller) {
  set_num_threads(2);
  EXPECT_THROW(parallel_for(1000, 1,
                            [](int64_t b, int64_t e) {
                              for (int64_t i = b; i < e; ++i)
                                if (i == 777) throw Error("bad row 777");
                            }),
               Error);
  int64_t total = 0;
  std::mutex mu;
  parallel_for(1000, 1, [&](int64_t b, int64_t e) {
    std::lock_guard<std::mutex> g(mu);
    total += e - b;
  });
  EXPECT_EQ(total, 1000);  // the pool still works afterwards
}
}  // namespace
}  // namespace kiln

namespace kiln {
namespace {
TEST(Tensor, EmptyTensorsCopyAndConvert) {
  Tensor t = Tensor::zeros({2, 0, 3});
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.clone().sizes(), (Shape{2, 0, 3}));
  EXPECT_EQ(t.to(DType::BF16).numel(), 0);
  EXPECT_EQ(t.transpose(0, 2).contiguous().sizes(), (Shape{3, 0, 2}));
  Tensor full = Tensor::full({0, 4}, 1.0);
  EXPECT_EQ(full.numel(), 0);
}
}  // namespace
}  // namespace kiln

namespace kiln {
namespace {
TEST(Storage, LargeBlocksAreReusedAndTracked) {
  size_t before = memory_stats(DeviceType::CPU).current;
  void* first;
  {
    Tensor a = Tensor::full({1 << 20}, 3.0);  // 4 MiB: a cached size class
    first = a.raw_data();
    EXPECT_EQ(memory_stats(DeviceType::CPU).current, before + (size_t(4) << 20));
  }
  EXPECT_EQ(memory_stats(DeviceType::CPU).current, before);
  Tensor b = Tensor::zeros({1 << 20});
  EXPECT_EQ(b.raw_data(), first);             // the freed block came back
  EXPECT_EQ(b.to_vector<float>()[12345], 0);  // and zeros() still zeroes it
  release_cached_memory();
}
}  // namespace
}  // namespace kiln
