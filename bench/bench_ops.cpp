// CPU op micro-benchmarks. Names are "op/shape"; bench/ops_vs_torch.py times PyTorch on the same
// names and shapes with the same thread count and prints the ratios. Each benchmark takes the
// thread count from KILN_THREADS (set by the script).
#include <benchmark/benchmark.h>

#include <vector>

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

// The server's batched decode step: SmolLM2-135M's MLP products at 1 to 64 rows in
// batch-invariant mode (every row summed as it would be alone; ops/matmul.h), beside the plain
// product (SGEMM from 9 rows) on the same shape. Each iteration takes the next of 32 weights
// (113 MB at the larger shape), so that, as in a model's forward, the weight comes from memory.
void BM_linear_invariant(benchmark::State& st, int64_t m, int64_t k, int64_t n, bool invariant) {
  Tensor x = randn({m, k});
  std::vector<Tensor> ws;
  for (int i = 0; i < 32; ++i) ws.push_back(randn({n, k}));
  size_t i = 0;
  for (auto _ : st) {
    const Tensor& w = ws[i++ % ws.size()];
    if (invariant) {
      ops::BatchInvariantGuard g;
      benchmark::DoNotOptimize(ops::linear(x, w));
    } else {
      benchmark::DoNotOptimize(ops::linear(x, w));
    }
  }
  st.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * m * k * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  // The rate the weights stream at: at m = 1 it is bounded by bench/membw's read bandwidth.
  st.counters["weight_GB/s"] = benchmark::Counter(
      4.0 * k * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
void invariant_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t m : {1, 8, 32, 64})
    for (auto [k, n] : {std::pair<int64_t, int64_t>{576, 1536}, {1536, 576}, {1024, 3072}})
      for (int inv : {1, 0}) b->Args({m, k, n, inv});
}
void BM_linear_invariant_args(benchmark::State& st) {
  BM_linear_invariant(st, st.range(0), st.range(1), st.range(2), st.range(3) != 0);
}
BENCHMARK(BM_linear_invariant_args)
    ->Name("linear_invariant")
    ->ArgNames({"m", "k", "n", "inv"})
    ->Apply(invariant_shapes)
    ->UseRealTime();

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  kiln::set_num_threads(0);  // KILN_THREADS, else all cores
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
