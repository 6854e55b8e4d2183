// CPU op micro-benchmarks. Names are "op/shape"; bench/ops_vs_torch.py times PyTorch on the same
// names and shapes with the same thread count and prints the ratios. Each benchmark takes the
// thread count from KILN_THREADS (set by the script).
#include <benchmark/benchmark.h>

#include "kiln/autograd/functions.h"
#include "kiln/core/rng.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/binary.h"
#include "kiln/ops/matmul.h"
#include "kiln/ops/reduce.h"

namespace kiln {
namespace {

Tensor randn(const Shape& s) {
  Tensor t = Tensor::empty(s);
  normal_(t, 0.0, 1.0);
  return t;
}

void BM_matmul(benchmark::State& st, int64_t m, int64_t k, int64_t n) {
  Tensor a = randn({m, k}), b = randn({k, n});
  for (auto _ : st) benchmark::DoNotOptimize(ops::matmul(a, b));
  st.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * m * k * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK_CAPTURE(BM_matmul, 1024x1024x1024, 1024, 1024, 1024)
    ->Name("matmul/1024x1024x1024")
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_matmul, 512x576x1536, 512, 576, 1536)
    ->Name("matmul/512x576x1536")
    ->UseRealTime();

void BM_add(benchmark::State& st) {
  Tensor a = randn({4096, 1024}), b = randn({1024});
  for (auto _ : st) benchmark::DoNotOptimize(ops::add(a, b));
}
BENCHMARK(BM_add)->Name("add_bcast/4096x1024")->UseRealTime();

void BM_sum(benchmark::State& st) {
  Tensor a = randn({4096, 1024});
  for (auto _ : st) benchmark::DoNotOptimize(ops::sum(a, {-1}));
}
BENCHMARK(BM_sum)->Name("sum_lastdim/4096x1024")->UseRealTime();

void BM_linear_fwd_bwd(benchmark::State& st) {
  Tensor x = randn({512, 576}).set_requires_grad(true);
  Tensor w = randn({1536, 576}).set_requires_grad(true);
  for (auto _ : st) {
    Tensor y = sum(linear(x, w));
    backward(y);
  }
}
BENCHMARK(BM_linear_fwd_bwd)->Name("linear_fwd_bwd/512x576x1536")->UseRealTime();

// Linear with a few rows against a weight larger than the caches, as in decode, speculative
// verification and the server's batched step: the weight's memory traffic dominates.
void BM_linear_rows(benchmark::State& st, int64_t m) {
  Tensor x = randn({m, 2048}), w = randn({2048, 2048});
  for (auto _ : st) benchmark::DoNotOptimize(ops::linear(x, w));
}
BENCHMARK_CAPTURE(BM_linear_rows, 1, 1)->Name("linear_rows/1x2048x2048")->UseRealTime();
BENCHMARK_CAPTURE(BM_linear_rows, 2, 2)->Name("linear_rows/2x2048x2048")->UseRealTime();
BENCHMARK_CAPTURE(BM_linear_rows, 5, 5)->Name("linear_rows/5x2048x2048")->UseRealTime();
BENCHMARK_CAPTURE(BM_linear_rows, 8, 8)->Name("linear_rows/8x2048x2048")->UseRealTime();
BENCHMARK_CAPTURE(BM_linear_rows, 32, 32)->Name("linear_rows/32x2048x2048")->UseRealTime();

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  kiln::set_num_threads(0);  // KILN_THREADS, else all cores
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
