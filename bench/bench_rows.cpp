// CPU benchmarks of softmax, log_softmax and embedding (forward and backward). Names match
// bench/ops_vs_torch.py, which times PyTorch on the same shapes and thread count.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>

#include "kiln/autograd/functions.h"
#include "kiln/core/rng.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/embedding.h"
#include "kiln/ops/softmax.h"

namespace kiln {
namespace {

Tensor randn(const Shape& s) {
  Tensor t = Tensor::empty(s);
  normal_(t, 0.0, 1.0);
  return t;
}

void BM_softmax(benchmark::State& st, bool log, int64_t dim) {
  Tensor x = randn({4096, 1024});
  for (auto _ : st) benchmark::DoNotOptimize(log ? ops::log_softmax(x, dim) : ops::softmax(x, dim));
}
BENCHMARK_CAPTURE(BM_softmax, sm, false, -1)->Name("softmax/4096x1024")->UseRealTime();
BENCHMARK_CAPTURE(BM_softmax, lsm, true, -1)->Name("log_softmax/4096x1024")->UseRealTime();
BENCHMARK_CAPTURE(BM_softmax, sm0, false, 0)->Name("softmax_dim0/4096x1024")->UseRealTime();

void BM_softmax_fwd_bwd(benchmark::State& st, bool log) {
  Tensor x = randn({4096, 1024}).set_requires_grad(true);
  Tensor dy = randn({4096, 1024});
  for (auto _ : st) backward(log ? log_softmax(x, -1) : softmax(x, -1), dy);
}
BENCHMARK_CAPTURE(BM_softmax_fwd_bwd, sm, false)->Name("softmax_fwd_bwd/4096x1024")->UseRealTime();
BENCHMARK_CAPTURE(BM_softmax_fwd_bwd, lsm, true)
    ->Name("log_softmax_fwd_bwd/4096x1024")
    ->UseRealTime();

// A 32k vocabulary, 1024 wide, looked up by 8192 Zipf-like ids (many repeats, as in text).
Tensor zipf_ids(int64_t n, int64_t vocab) {
  Tensor u = Tensor::empty({n}, DType::F64);
  uniform_(u, 0.0, 1.0);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  std::vector<double> uv = u.to_vector<double>();
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = std::min<int64_t>(vocab - 1, int64_t(std::pow(double(vocab), uv[i])) - 1);
  return Tensor::from_vector(ids, {n});
}

void BM_embedding(benchmark::State& st) {
  Tensor w = randn({32000, 1024}), ids = zipf_ids(8192, 32000);
  for (auto _ : st) benchmark::DoNotOptimize(ops::embedding(w, ids));
}
BENCHMARK(BM_embedding)->Name("embedding/32000x1024_n8192")->UseRealTime();

void BM_embedding_backward(benchmark::State& st) {
  Tensor dy = randn({8192, 1024}), ids = zipf_ids(8192, 32000);
  for (auto _ : st) benchmark::DoNotOptimize(ops::embedding_backward(dy, ids, 32000));
}
BENCHMARK(BM_embedding_backward)->Name("embedding_backward/32000x1024_n8192")->UseRealTime();

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  kiln::set_num_threads(0);  // KILN_THREADS, else all cores
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
