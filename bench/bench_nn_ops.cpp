// CPU benchmarks of the fused model ops (kiln/ops/norm.h, attention.h, cross_entropy.h) on the
// shapes of a small decoder: RMSNorm over [4096, 1024], causal attention with 8 heads of 64 at
// T = 512 and 2048, cross-entropy over GPT-2's 50257-token vocabulary. The benchmark argument is
// the thread count. Forward-only runs take no gradients; fwd_bwd runs record the tape and run
// backward, as training does.
#include <benchmark/benchmark.h>

#include "kiln/autograd/functions.h"
#include "kiln/core/rng.h"
#include "kiln/core/thread_pool.h"

namespace kiln {
namespace {

Tensor randn(const Shape& s, bool grad = false) {
  Tensor t = Tensor::empty(s);
  normal_(t, 0.0, 1.0);
  if (grad) t.set_requires_grad(true);
  return t;
}

void threads_from(const benchmark::State& st) {
  set_num_threads(int(st.range(0)));
}

void BM_rms_norm(benchmark::State& st) {
  threads_from(st);
  Tensor x = randn({4096, 1024}), w = randn({1024});
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(rms_norm(x, w, 1e-6));
  st.SetBytesProcessed(int64_t(st.iterations()) * 2 * x.nbytes());
}

void BM_rms_norm_fwd_bwd(benchmark::State& st) {
  threads_from(st);
  Tensor x = randn({4096, 1024}, true), w = randn({1024}, true), g = randn({4096, 1024});
  for (auto _ : st) {
    backward(rms_norm(x, w, 1e-6), g);
    x.set_grad(Tensor());
    w.set_grad(Tensor());
  }
}

struct AttnShape {
  int64_t b, h, t, d;
};

// q k^T and p v, halved for the causal mask, as FLOP/s.
void attention_flops(benchmark::State& st, const AttnShape& s, double passes) {
  double flops =
      passes * 2.0 * 2.0 * double(s.b * s.h) * double(s.t) * double(s.t) * double(s.d) / 2.0;
  st.counters["GFLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void BM_attention(benchmark::State& st, AttnShape s) {
  threads_from(st);
  Tensor q = randn({s.b, s.h, s.t, s.d}), k = randn({s.b, s.h, s.t, s.d}),
         v = randn({s.b, s.h, s.t, s.d});
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(attention(q, k, v));
  attention_flops(st, s, 1.0);
}

// Backward does 2.5x the forward's products (FlashAttention-2), so fwd_bwd counts 3.5 passes.
void BM_attention_fwd_bwd(benchmark::State& st, AttnShape s) {
  threads_from(st);
  Tensor q = randn({s.b, s.h, s.t, s.d}, true), k = randn({s.b, s.h, s.t, s.d}, true),
         v = randn({s.b, s.h, s.t, s.d}, true), g = randn({s.b, s.h, s.t, s.d});
  for (auto _ : st) {
    backward(attention(q, k, v), g);
    for (const Tensor& t : {q, k, v}) t.set_grad(Tensor());
  }
  attention_flops(st, s, 3.5);
}

Tensor targets(int64_t n, int64_t vocab) {
  Tensor t = Tensor::empty({n});
  uniform_(t, 0.0, double(vocab - 1));
  return t.to(DType::I64);
}

void BM_cross_entropy(benchmark::State& st) {
  threads_from(st);
  Tensor logits = randn({2048, 50257}), t = targets(2048, 50257);
  NoGradGuard ng;
  for (auto _ : st) benchmark::DoNotOptimize(cross_entropy(logits, t));
  st.SetBytesProcessed(int64_t(st.iterations()) * logits.nbytes());
}

void BM_cross_entropy_fwd_bwd(benchmark::State& st) {
  threads_from(st);
  Tensor logits = randn({2048, 50257}, true), t = targets(2048, 50257);
  for (auto _ : st) {
    backward(cross_entropy(logits, t));
    logits.set_grad(Tensor());
  }
  st.SetBytesProcessed(int64_t(st.iterations()) * 3 * logits.nbytes());
}

void thread_args(benchmark::internal::Benchmark* b) {
  b->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_rms_norm)->Name("rms_norm/4096x1024")->Apply(thread_args);
BENCHMARK(BM_rms_norm_fwd_bwd)->Name("rms_norm_fwd_bwd/4096x1024")->Apply(thread_args);
BENCHMARK_CAPTURE(BM_attention, t512, AttnShape{1, 8, 512, 64})
    ->Name("attention/B1H8T512D64")
    ->Apply(thread_args);
BENCHMARK_CAPTURE(BM_attention, t2048, AttnShape{1, 8, 2048, 64})
    ->Name("attention/B1H8T2048D64")
    ->Apply(thread_args);
BENCHMARK_CAPTURE(BM_attention, t2048d128, AttnShape{1, 8, 2048, 128})
    ->Name("attention/B1H8T2048D128")
    ->Apply(thread_args);
BENCHMARK_CAPTURE(BM_attention_fwd_bwd, t512, AttnShape{1, 8, 512, 64})
    ->Name("attention_fwd_bwd/B1H8T512D64")
    ->Apply(thread_args);
BENCHMARK_CAPTURE(BM_attention_fwd_bwd, t2048, AttnShape{1, 8, 2048, 64})
    ->Name("attention_fwd_bwd/B1H8T2048D64")
    ->Apply(thread_args);
BENCHMARK(BM_cross_entropy)->Name("cross_entropy/2048x50257")->Apply(thread_args);
BENCHMARK(BM_cross_entropy_fwd_bwd)->Name("cross_entropy_fwd_bwd/2048x50257")->Apply(thread_args);

}  // namespace
}  // namespace kiln

BENCHMARK_MAIN();
