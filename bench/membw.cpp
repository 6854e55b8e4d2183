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

namespace {

constexpr int64_t kBytes = int64_t(1) << 30;  // 1 GiB per array

void BM_read_sum(benchmark::State& state) {
  std::vector<float> a(size_t(kBytes / 4), 1.f);
  const int64_t n = int64_t(a.size());
  for (auto _ : state) {
    std::vector<double> partial(64, 0.0);
    kiln::parallel_for(n, n / 16, [&](int64_t b, int64_t e) {
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = b;
      for (; i + 4 <= e; i += 4) {
        s0 += a[size_t(i)];
        s1 += a[size_t(i + 1)];
        s2 += a[size_t(i + 2)];
        s3 += a[size_t(i + 3)];
      }
      partial[size_t(b * 16 / n)] += double(s0 + s1 + s2 + s3);
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
