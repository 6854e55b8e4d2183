// Causal attention on the GPU: forward and forward+backward TFLOP/s of kiln's CUDA kernels at the
// anchor's shape (bf16, head_dim 128). FLOPs counted as FlashAttention-2 does: forward
// 4 B H T S D / 2 for causal masks, backward 2.5 times that. Usage: attention_gpu [B H S D]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kiln/core/rng.h"
#include "kiln/ops/attention.h"

using namespace kiln;

namespace {

Tensor randn(const Shape& s, uint64_t seed) {
  Generator g(seed);
  Tensor t = Tensor::empty(s, DType::BF16, Device::cuda());
  normal_(t, 0, 1, g);
  return t;
}

template <class F>
double seconds_per_call(int reps, F&& f) {
  f();  // warm-up: allocator cache, cuBLAS handle, module load
  synchronize(Device::cuda());
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) f();
  synchronize(Device::cuda());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t B = 8, H = 16, S = 2048, D = 128;
  if (argc == 5) B = atoll(argv[1]), H = atoll(argv[2]), S = atoll(argv[3]), D = atoll(argv[4]);
  Tensor q = randn({B, H, S, D}, 1), k = randn({B, H, S, D}, 2), v = randn({B, H, S, D}, 3);
  Tensor dout = randn({B, H, S, D}, 4);
  ops::AttentionParams p;
  double fwd_flops = 4.0 * B * H * S * S * D / 2;
  ops::AttentionOut o;
  double tf = seconds_per_call(3, [&] { o = ops::attention(q, k, v, p); });
  double tb = seconds_per_call(2, [&] { ops::attention_backward(dout, q, k, v, o, p); });
  std::printf(
      "kiln attention B%lld H%lld S%lld D%lld bf16 causal: fwd %.2f ms %.1f TFLOP/s, "
      "fwd+bwd %.2f ms %.1f TFLOP/s\n",
      (long long)B, (long long)H, (long long)S, (long long)D, tf * 1e3, fwd_flops / tf / 1e12,
      (tf + tb) * 1e3, 3.5 * fwd_flops / (tf + tb) / 1e12);
  return 0;
}
