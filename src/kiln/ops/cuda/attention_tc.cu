// Attention forward on the tensor cores, FlashAttention-2 style: a block takes 64 query rows of
// one head (16 per warp) and walks the visible keys in tiles of 64, double-buffered in shared
// memory (the next tile loads by cp.async while this one is used). Blocks start with the last
// query tiles, which have the most keys to see under a causal mask. Each
// warp keeps its queries, scores, probabilities and output accumulator in registers: S = Q K^T
// and O += P V are bf16 mma.sync products with f32 accumulation (attention_mma.cuh), and the
// online softmax runs on the score fragments in base 2, a row's four lanes agreeing by shuffles.
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/cuda/attention_mma.cuh"
#include "kiln/ops/cuda/attention_tc.h"

namespace kiln::cuda {
namespace {

using namespace mma;

constexpr int kBQ = 64, kBK = 64, kWarps = 4;
constexpr float kLog2e = 1.4426950408889634f;

struct Args {
  const bf *q, *k, *v;
  bf* out;
  float* lse;
  int64_t Hq, G, T, S;
  int64_t qs[3], ks[3], vs[3];  // batch, head, row strides
  float scale;
  int64_t window, q_offset;
  bool causal;
};

template <int D>
constexpr size_t smem_bytes() {
  return size_t(kBQ + 4 * kBK) * (D + 8) * 2;
}

template <int D>
__global__ void __launch_bounds__(kWarps * 32) fwd_tc(Args a) {
  constexpr int kLd = D + 8;
  extern __shared__ __align__(128) unsigned char smem[];
  bf* sQ = reinterpret_cast<bf*>(smem);
  bf* sK = sQ + kBQ * kLd;
  bf* sV = sK + 2 * kBK * kLd;  // two buffers each of K and V
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tq = lane % 4;

  int64_t bh = blockIdx.y, b = bh / a.Hq, h = bh % a.Hq, hk = h / a.G;
  int64_t q0 = int64_t(gridDim.x - 1 - blockIdx.x) * kBQ;
  load_tile<D>(sQ, a.q + b * a.qs[0] + h * a.qs[1] + q0 * a.qs[2], a.qs[2], kBQ, a.T - q0);
  __syncthreads();
  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) load_a(qf[kk], sQ, kLd, warp * 16, kk * 16);

  // This lane's two rows: g and g + 8 of the warp's 16.
  int64_t t[2] = {q0 + warp * 16 + g, q0 + warp * 16 + g + 8};
  int64_t pos[2] = {a.q_offset + t[0], a.q_offset + t[1]};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};
  float o[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
  const float sc = a.scale * kLog2e;

  // Keys any row of this block may see.
  int64_t last = a.causal ? min(a.S, a.q_offset + q0 + kBQ) : a.S;
  int64_t first = a.window > 0 ? max(int64_t(0), a.q_offset + q0 - a.window + 1) : 0;
  first = first / kBK * kBK;
  const bf* kb = a.k + b * a.ks[0] + hk * a.ks[1];
  const bf* vb = a.v + b * a.vs[0] + hk * a.vs[1];
  int64_t tiles = last > first ? (last - first + kBK - 1) / kBK : 0;
  auto issue = [&](int64_t i) {
    int64_t k0 = first + i * kBK;
    load_tile_async<D>(sK + (i % 2) * kBK * kLd, kb + k0 * a.ks[2], a.ks[2], kBK, a.S - k0);
    load_tile_async<D>(sV + (i % 2) * kBK * kLd, vb + k0 * a.vs[2], a.vs[2], kBK, a.S - k0);
    commit();
  };
  if (tiles > 0) issue(0);
  for (int64_t i = 0; i < tiles; ++i) {
    int64_t k0 = first + i * kBK;
    if (i + 1 < tiles) {
      issue(i + 1);
      wait<1>();
    } else {
      wait<0>();
    }
    __syncthreads();  // tile i is in shared memory for every thread
    const bf* tK = sK + (i % 2) * kBK * kLd;
    const bf* tV = sV + (i % 2) * kBK * kLd;

    float s[kBK / 8][4];
#pragma unroll
    for (int n = 0; n < kBK / 8; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk)
#pragma unroll
      for (int n = 0; n < kBK / 16; ++n) {
        uint32_t kf[4];
        load_b_nk(kf, tK, kLd, n * 16, kk * 16);
        mma::mma(s[2 * n], qf[kk], kf[0], kf[1]);
        mma::mma(s[2 * n + 1], qf[kk], kf[2], kf[3]);
      }

    // Masks only where a tile reaches past the diagonal, the window's edge or the end.
    bool edge = k0 + kBK > a.S || t[0] - g + 15 >= a.T ||
                (a.causal && k0 + kBK - 1 > a.q_offset + q0 + warp * 16) ||
                (a.window > 0 && k0 <= a.q_offset + q0 + warp * 16 + 15 - a.window);
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int n = 0; n < kBK / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        int r = e / 2;
        float v = s[n][e] * sc;
        if (edge) {
          int64_t j = k0 + n * 8 + 2 * tq + (e % 2);
          bool masked = t[r] >= a.T || j >= a.S || (a.causal && j > pos[r]) ||
                        (a.window > 0 && j <= pos[r] - a.window);
          if (masked) v = -INFINITY;
        }
        s[n][e] = v;
        mx[r] = fmaxf(mx[r], v);
      }
    float factor[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      float m_new = fmaxf(m[r], mx[r]);
      factor[r] = m_new == -INFINITY ? 1.f : exp2f(m[r] - m_new);
      m[r] = m_new;
      l[r] *= factor[r];
    }
#pragma unroll
    for (int n = 0; n < kBK / 8; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        int r = e / 2;
        float p = m[r] == -INFINITY ? 0.f : exp2f(s[n][e] - m[r]);
        s[n][e] = p;
        l[r] += p;  // this lane's columns only; the row's four lanes add up at the end
      }
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      o[n][0] *= factor[0];
      o[n][1] *= factor[0];
      o[n][2] *= factor[1];
      o[n][3] *= factor[1];
    }
#pragma unroll
    for (int kc = 0; kc < kBK / 16; ++kc) {
      uint32_t pf[4] = {pack(s[2 * kc][0], s[2 * kc][1]), pack(s[2 * kc][2], s[2 * kc][3]),
                        pack(s[2 * kc + 1][0], s[2 * kc + 1][1]),
                        pack(s[2 * kc + 1][2], s[2 * kc + 1][3])};
#pragma unroll
      for (int n = 0; n < D / 16; ++n) {
        uint32_t vf[4];
        load_b_kn(vf, tV, kLd, n * 16, kc * 16);
        mma::mma(o[2 * n], pf, vf[0], vf[1]);
        mma::mma(o[2 * n + 1], pf, vf[2], vf[3]);
      }
    }
    __syncthreads();  // tile i's buffers are free for tile i + 2
  }

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    if (t[r] >= a.T) continue;
    float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;  // a fully masked row outputs zeros
    bf* orow = a.out + (bh * a.T + t[r]) * D;
#pragma unroll
    for (int n = 0; n < D / 8; ++n)
      *reinterpret_cast<uint32_t*>(orow + n * 8 + 2 * tq) =
          pack(o[n][2 * r] * inv, o[n][2 * r + 1] * inv);
    if (tq == 0) a.lse[bh * a.T + t[r]] = l[r] > 0.f ? m[r] / kLog2e + logf(l[r]) : INFINITY;
  }
}

bool aligned_rows(const Tensor& x) {
  return reinterpret_cast<uintptr_t>(x.raw_data()) % 16 == 0 && x.stride(0) % 8 == 0 &&
         x.stride(1) % 8 == 0 && x.stride(2) % 8 == 0;
}

template <int D>
void launch(const Args& a, int64_t B) {
  static bool configured = [] {
    KILN_CUDA_CHECK(cudaFuncSetAttribute(fwd_tc<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         int(smem_bytes<D>())));
    return true;
  }();
  (void)configured;
  dim3 grid(unsigned((a.T + kBQ - 1) / kBQ), unsigned(B * a.Hq));
  fwd_tc<D><<<grid, kWarps * 32, smem_bytes<D>(), stream()>>>(a);
  KILN_CUDA_LAUNCHED();
}

}  // namespace

bool attention_tensor_cores(const Tensor& q, const Tensor& k, const Tensor& v,
                            const ops::AttentionParams& p, const Tensor& out, const Tensor& lse) {
  int64_t D = q.size(3);
  if (q.dtype() != DType::BF16 || v.size(3) != D || (D != 64 && D != 128) || p.bias.defined() ||
      p.key_padding.defined() || !aligned_rows(q) || !aligned_rows(k) || !aligned_rows(v))
    return false;
  if (q.numel() == 0 || k.size(2) == 0) return false;
  Args a{ptr<kiln::bf16>(q),
         ptr<kiln::bf16>(k),
         ptr<kiln::bf16>(v),
         ptr<kiln::bf16>(out),
         static_cast<float*>(lse.raw_data()),
         q.size(1),
         q.size(1) / k.size(1),
         q.size(2),
         k.size(2),
         {q.stride(0), q.stride(1), q.stride(2)},
         {k.stride(0), k.stride(1), k.stride(2)},
         {v.stride(0), v.stride(1), v.stride(2)},
         float(p.scale),
         p.window,
         p.q_offset,
         p.causal};
  if (D == 64)
    launch<64>(a, q.size(0));
  else
    launch<128>(a, q.size(0));
  return true;
}

}  // namespace kiln::cuda
