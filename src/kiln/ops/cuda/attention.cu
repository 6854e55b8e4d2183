// Attention on the GPU. bf16 with head dim 64 or 128 runs on the tensor cores (attention_tc.cu,
// attention_tc_bwd.cu); every other case runs here, correct first: one warp per query row.
// Forward walks the row's visible keys with an online softmax (running max and sum), the output row
// spread over the warp's lanes in registers, and saves the log-sum-exp. Backward recomputes each
// probability from it: dq stays in registers, dk and dv are summed across query rows (and the query
// heads of a GQA group) by atomics into f32 (f64 for f64) accumulators, rounded once at the end.
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/attention.h"
#include "kiln/ops/cuda/attention_tc.h"
#include "kiln/ops/kernel.h"

namespace kiln::cuda {
namespace {

constexpr int kMaxPerLane = 8;  // head dims up to 256
constexpr int kWarps = 4;

struct Geo {
  int64_t B, Hq, Hkv, T, S, D, Dv, G;
  int64_t q[3], k[3], v[3], o[3];  // batch, head, row strides (unit stride in the last dim)
  int64_t bias[4];
  double scale;
  int64_t window, q_offset;
  bool causal;
};

Geo geo_of(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
           const ops::AttentionParams& p) {
  Geo g{};
  g.B = q.size(0), g.Hq = q.size(1), g.Hkv = k.size(1), g.T = q.size(2), g.S = k.size(2);
  g.D = q.size(3), g.Dv = v.size(3), g.G = g.Hq / g.Hkv;
  for (int d = 0; d < 3; ++d) {
    g.q[d] = q.stride(d);
    g.k[d] = k.stride(d);
    g.v[d] = v.stride(d);
    g.o[d] = o.stride(d);
  }
  for (int d = 0; d < 4; ++d) g.bias[d] = p.bias.defined() ? p.bias.stride(d) : 0;
  g.scale = p.scale;
  g.window = p.window;
  g.q_offset = p.q_offset;
  g.causal = p.causal;
  return g;
}

// The keys [begin, end) that query row t may see before padding and bias.
__device__ void visible(const Geo& g, int64_t t, int64_t& begin, int64_t& end) {
  int64_t pos = g.q_offset + t;
  end = g.causal ? min(pos + 1, g.S) : g.S;
  begin = g.window > 0 ? max(pos - g.window + 1, int64_t(0)) : 0;
}

// Score of key j for row (b, h, t), or -inf when masked; every lane gets it.
template <class T, class A>
__device__ A score(const Geo& g, const T* qr, const T* kr, const T* bias, const uint8_t* kp,
                   int64_t b, int64_t h, int64_t t, int64_t j) {
  int lane = threadIdx.x % 32;
  A s = A(0);
  for (int64_t d = lane; d < g.D; d += 32) s += load<A>(qr + d) * load<A>(kr + d);
  s = warp_sum(s) * A(g.scale);
  if (bias) s += load<A>(bias + b * g.bias[0] + h * g.bias[1] + t * g.bias[2] + j * g.bias[3]);
  if (kp && kp[b * g.S + j]) s = A(-INFINITY);
  return s;
}

template <class T>
__global__ void fwd_k(Geo g, const T* q, const T* k, const T* v, const T* bias, const uint8_t* kp,
                      T* out, acc_t<T>* lse) {
  using A = acc_t<T>;
  int64_t row = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (row >= g.B * g.Hq * g.T) return;
  int lane = threadIdx.x % 32;
  int64_t t = row % g.T, h = (row / g.T) % g.Hq, b = row / (g.T * g.Hq), hk = h / g.G;
  const T* qr = q + b * g.q[0] + h * g.q[1] + t * g.q[2];
  int64_t begin, end;
  visible(g, t, begin, end);
  A m = A(-INFINITY), l = A(0), o[kMaxPerLane];
  for (int i = 0; i < kMaxPerLane; ++i) o[i] = A(0);
  for (int64_t j = begin; j < end; ++j) {
    A s = score<T, A>(g, qr, k + b * g.k[0] + hk * g.k[1] + j * g.k[2], bias, kp, b, h, t, j);
    if (s == A(-INFINITY)) continue;
    A mn = max(m, s), c = exp(m - mn), p = exp(s - mn);
    l = l * c + p;
    const T* vr = v + b * g.v[0] + hk * g.v[1] + j * g.v[2];
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
      int64_t d = lane + 32 * i;
      if (d < g.Dv) o[i] = o[i] * c + p * load<A>(vr + d);
    }
    m = mn;
  }
  T* orow = out + b * g.o[0] + h * g.o[1] + t * g.o[2];
  A inv = l > A(0) ? A(1) / l : A(0);  // a fully masked row outputs zeros
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    int64_t d = lane + 32 * i;
    if (d < g.Dv) store(orow + d, o[i] * inv);
  }
  if (lane == 0) lse[row] = l > A(0) ? m + log(l) : A(INFINITY);
}

template <class T>
__global__ void bwd_k(Geo g, const T* dout, const T* q, const T* k, const T* v, const T* out,
                      const acc_t<T>* lse, const T* bias, const uint8_t* kp, T* dq, acc_t<T>* dk,
                      acc_t<T>* dv) {
  using A = acc_t<T>;
  int64_t row = int64_t(blockIdx.x) * kWarps + threadIdx.x / 32;
  if (row >= g.B * g.Hq * g.T) return;
  int lane = threadIdx.x % 32;
  int64_t t = row % g.T, h = (row / g.T) % g.Hq, b = row / (g.T * g.Hq), hk = h / g.G;
  const T* qr = q + b * g.q[0] + h * g.q[1] + t * g.q[2];
  const T* dor = dout + row * g.Dv;  // dout arrives contiguous
  const T* orow = out + b * g.o[0] + h * g.o[1] + t * g.o[2];
  A L = lse[row];
  A rowdot = A(0);  // sum(dout * out), the softmax backward's row term
  for (int64_t d = lane; d < g.Dv; d += 32) rowdot += load<A>(dor + d) * load<A>(orow + d);
  rowdot = warp_sum(rowdot);
  A dqa[kMaxPerLane];
  for (int i = 0; i < kMaxPerLane; ++i) dqa[i] = A(0);
  int64_t begin, end;
  visible(g, t, begin, end);
  if (L == A(INFINITY)) begin = end;  // fully masked: no gradient
  for (int64_t j = begin; j < end; ++j) {
    const T* kr = k + b * g.k[0] + hk * g.k[1] + j * g.k[2];
    const T* vr = v + b * g.v[0] + hk * g.v[1] + j * g.v[2];
    A s = score<T, A>(g, qr, kr, bias, kp, b, h, t, j);
    if (s == A(-INFINITY)) continue;
    A p = exp(s - L), dp = A(0);
    for (int64_t d = lane; d < g.Dv; d += 32) dp += load<A>(dor + d) * load<A>(vr + d);
    dp = warp_sum(dp);
    A ds = p * (dp - rowdot) * A(g.scale);
    int64_t kv_row = (b * g.Hkv + hk) * g.S + j;
    for (int64_t d = lane; d < g.Dv; d += 32)
      atomicAdd(dv + kv_row * g.Dv + d, p * load<A>(dor + d));
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
      int64_t d = lane + 32 * i;
      if (d < g.D) {
        dqa[i] += ds * load<A>(kr + d);
        atomicAdd(dk + kv_row * g.D + d, ds * load<A>(qr + d));
      }
    }
  }
  T* dqr = dq + row * g.D;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    int64_t d = lane + 32 * i;
    if (d < g.D) store(dqr + d, dqa[i]);
  }
}

template <class T>
const dev_t<T>* opt(const Tensor& t) {
  return t.defined() ? ptr<T>(t) : nullptr;
}

void check_dims(const Tensor& q, const Tensor& v) {
  KILN_REQUIRE(q.size(3) <= 32 * kMaxPerLane && v.size(3) <= 32 * kMaxPerLane,
               "attention on CUDA: head dims up to ", 32 * kMaxPerLane, " are supported, got ",
               q.size(3), " and ", v.size(3));
}

void attention(const Tensor& q, const Tensor& k, const Tensor& v, const ops::AttentionParams& p,
               const Tensor& out, const Tensor& lse) {
  check_dims(q, v);
  if (attention_tensor_cores(q, k, v, p, out, lse)) return;
  Geo g = geo_of(q, k, v, out, p);
  int64_t rows = g.B * g.Hq * g.T;
  if (rows == 0) return;
  Tensor kpc = p.key_padding.defined() ? p.key_padding.contiguous() : Tensor();
  const uint8_t* kp = kpc.defined() ? ptr<uint8_t>(kpc) : nullptr;
  visit_float(q.dtype(), "attention", [&](auto tag) {
    using T = decltype(tag);
    fwd_k<<<grid_for(rows, kWarps), 32 * kWarps, 0, stream()>>>(
        g, ptr<T>(q), ptr<T>(k), ptr<T>(v), opt<T>(p.bias), kp, ptr<T>(out),
        static_cast<acc_t<T>*>(lse.raw_data()));
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::attention_kernel, attention);

void attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& out, const Tensor& lse, const ops::AttentionParams& p,
                        const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  if (attention_backward_tensor_cores(dout, q, k, v, out, lse, p, dq, dk, dv)) return;
  check_dims(q, v);
  Geo g = geo_of(q, k, v, out, p);
  int64_t rows = g.B * g.Hq * g.T;
  Tensor kpc = p.key_padding.defined() ? p.key_padding.contiguous() : Tensor();
  Tensor dor = dout.contiguous();
  visit_float(q.dtype(), "attention backward", [&](auto tag) {
    using T = decltype(tag);
    using A = acc_t<T>;
    DType at = dtype_of<A>::value;
    Tensor dka = Tensor::zeros(dk.sizes(), at, dk.device());
    Tensor dva = Tensor::zeros(dv.sizes(), at, dv.device());
    if (rows) {
      bwd_k<<<grid_for(rows, kWarps), 32 * kWarps, 0, stream()>>>(
          g, ptr<T>(dor), ptr<T>(q), ptr<T>(k), ptr<T>(v), ptr<T>(out),
          static_cast<const A*>(lse.raw_data()), opt<T>(p.bias),
          kpc.defined() ? ptr<uint8_t>(kpc) : nullptr, ptr<T>(dq), static_cast<A*>(dka.raw_data()),
          static_cast<A*>(dva.raw_data()));
      KILN_CUDA_LAUNCHED();
    }
    dk.copy_(dka);
    dv.copy_(dva);
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::attention_backward_kernel, attention_backward);

}  // namespace
}  // namespace kiln::cuda
