// Memory bandwidth of this machine on kiln's thread pool, STREAM-like: read-only sum (what a
// decode step does with its weights) and copy, over arrays far larger than the caches. The
// ceiling decode speed is compared against (docs/benchmarks.md): tokens/s <= read GB/s / weight
// bytes per token.
//
// Usage: build/release/bench/membw --benchmark_counters_tabular=true (threads: KILN_THREADS)
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "kiln/core/thread_pool.h"
#include "kiln/ops/cpu/simd.h"

namespace {

constexpr int64_t kBytes = int64_t(1) << 30;  // 1 GiB per array

void BM_read_sum(benchmark::State& state) {
  std::vector<float> a(size_t(kBytes / 4), 1.f);
  const int64_t n = int64_t(a.size());
  for (auto _ : state) {
    std::vector<double> partial(64, 0.0);
    kiln::parallel_for(n, n / 16, [&](int64_t b, int64_t e) {
      // Four vector sums in flight: the loop must outrun memory, or this measures the adder
      // (four scalar sums capped it at ~35 GB/s on 2 cores that stream ~50).
      constexpr int64_t L = kiln::ops::cpu::simd::kLanes<float>;
      kiln::ops::cpu::simd::Vec<float> v0 = {}, v1 = {}, v2 = {}, v3 = {};
      int64_t i = b;
      for (; i + 4 * L <= e; i += 4 * L) {
        v0 += kiln::ops::cpu::simd::load(&a[size_t(i)]);
        v1 += kiln::ops::cpu::simd::load(&a[size_t(i + L)]);
        v2 += kiln::ops::cpu::simd::load(&a[size_t(i + 2 * L)]);
        v3 += kiln::ops::cpu::simd::load(&a[size_t(i + 3 * L)]);
      }
      float sum = kiln::ops::cpu::simd::tree_sum(v0 + v1 + v2 + v3);
      for (; i < e; ++i) sum += a[size_t(i)];
      partial[size_t(b * 16 / n)] += double(sum);
    });
    benchmark::DoNotOptimize(partial.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      double(kBytes), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_copy(benchmark::State& state) {
  std::vector<char> a(size_t(kBytes), 1), b(size_t(kBytes), 0);
  for (auto _ : state) {
    kiln::parallel_for(kBytes, kBytes / 16, [&](int64_t s, int64_t e) {
      std::memcpy(b.data() + s, a.data() + s, size_t(e - s));
    });
    benchmark::DoNotOptimize(b.data());
  }
  // Bytes moved: read + write.
  state.counters["GB/s"] =
      benchmark::Counter(double(2 * kBytes), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

}  // namespace

BENCHMARK(BM_read_sum)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_copy)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK_MAIN();
