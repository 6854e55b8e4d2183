// Packed-weight products (kiln/quant/matmul.h) on decoder shapes: one row (decode) and 512 rows
// (prefill) for each weight type, beside the f32 product through BLAS. Weight GB/s is the rate the
// weights stream through at one row, to compare with bench/membw's read bandwidth.
//
// Usage: KILN_THREADS=2 build/release/bench/bench_quant --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <random>

#include "kiln/ops/matmul.h"
#include "kiln/quant/matmul.h"
#include "kiln/quant/quantize.h"

namespace {

using kiln::DType;
using kiln::Tensor;

const DType kTypes[] = {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_K};

Tensor randn(int64_t rows, int64_t cols) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(size_t(rows * cols));
  for (float& f : v) f = d(rng);
  return Tensor::from_vector(v, {rows, cols});
}

// args: type index, M, N, K
void BM_linear(benchmark::State& state) {
  DType t = kTypes[state.range(0)];
  int64_t m = state.range(1), n = state.range(2), k = state.range(3);
  if (k % kiln::dtype_info(t).block_elems != 0) {
    state.SkipWithError("rows are not whole blocks of this type (a GGUF keeps them f16)");
    return;
  }
  Tensor wf = randn(n, k);
  Tensor w = t == DType::F32 ? wf : kiln::is_quantized(t) ? kiln::quant::quantize(wf, t) : wf.to(t);
  Tensor x = randn(m, k);
  for (auto _ : state) {
    Tensor y = t == DType::F32 ? kiln::ops::linear(x, w) : kiln::quant::linear(x, w);
    benchmark::DoNotOptimize(y.raw_data());
  }
  state.SetLabel(kiln::dtype_name(t));
  state.counters["weight_GB/s"] =
      benchmark::Counter(double(w.nbytes()), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * double(m * n * k), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t t = 0; t < 5; ++t) {
    for (int64_t m : {1, 512}) {
      b->Args({t, m, 1536, 576});   // SmolLM2-135M up/gate projection
      b->Args({t, m, 3072, 1024});  // Qwen3-0.6B up/gate projection
    }
  }
}

}  // namespace

BENCHMARK(BM_linear)->Apply(shapes)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_MAIN();
