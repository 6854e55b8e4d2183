// Attention forward on the tensor cores, FlashAttention-2 style: a block takes 64 or 128 query
// rows of one head (16 or 32 per warp) and walks the visible keys in tiles of 64, double-buffered
// in shared memory (the next tile loads by cp.async while this one is used). Blocks start with the
// last query tiles, which have the most keys to see under a causal mask. Each warp keeps its
// scores, probabilities and output accumulators in registers (Q fragments come from shared memory):
// S = Q K^T and O += P V are bf16 mma.sync products with f32 accumulation (attention_mma.cuh), and
// the online softmax runs on the score fragments in base 2, a row's four lanes agreeing by
// shuffles.
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/cuda/attention_mma.cuh"
#include "kiln/ops/cuda/attention_tc.h"

namespace kiln::cuda {
namespace {

using namespace mma;

// Each warp takes kMT row tiles of 16, so every K and V fragment it loads from shared memory
// feeds kMT products (shared-memory reads, not the tensor cores, bound this kernel). Measured on
// the H100: two tiles win at head dim 128 (B8 H16 S2048: 111 -> 116 TFLOP/s; S8192: 133 -> 154)
// and lose at 64 (B16 H12 S1024: 74 -> 55, half the blocks for the same work), so 64 keeps one.
constexpr int kWarps = 4, kBK = 64;
template <int D>
constexpr int kMT = D == 128 ? 2 : 1;
template <int D>
constexpr int kBQ = kWarps* kMT<D> * 16;
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
  return size_t(kBQ<D> + 4 * kBK) * (D + 8) * 2;
}

template <int D>
__global__ void __launch_bounds__(kWarps * 32) fwd_tc(Args a) {
  constexpr int kLd = D + 8, kMT = cuda::kMT<D>, kBQ = cuda::kBQ<D>;
  extern __shared__ __align__(128) unsigned char smem[];
  bf* sQ = reinterpret_cast<bf*>(smem);
  bf* sK = sQ + kBQ * kLd;
  bf* sV = sK + 2 * kBK * kLd;  // two buffers each of K and V
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tq = lane % 4;
  int wrow = warp * kMT * 16;  // the warp's first row in the block

  int64_t bh = blockIdx.y, b = bh / a.Hq, h = bh % a.Hq, hk = h / a.G;
  int64_t q0 = int64_t(gridDim.x - 1 - blockIdx.x) * kBQ;
  load_tile<D>(sQ, a.q + b * a.qs[0] + h * a.qs[1] + q0 * a.qs[2], a.qs[2], kBQ, a.T - q0);

  // This lane's rows: g and g + 8 of each of the warp's tiles.
  int64_t t[kMT][2], pos[kMT][2];
  float m[kMT][2], l[kMT][2], o[kMT][D / 8][4];
#pragma unroll
  for (int mt = 0; mt < kMT; ++mt) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      t[mt][r] = q0 + wrow + mt * 16 + g + 8 * r;
      pos[mt][r] = a.q_offset + t[mt][r];
      m[mt][r] = -INFINITY;
      l[mt][r] = 0.f;
    }
#pragma unroll
    for (int n = 0; n < D / 8; ++n) o[mt][n][0] = o[mt][n][1] = o[mt][n][2] = o[mt][n][3] = 0.f;
  }
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
    __syncthreads();  // tile i (and Q, at the start) is in shared memory for every thread
    const bf* tK = sK + (i % 2) * kBK * kLd;
    const bf* tV = sV + (i % 2) * kBK * kLd;

    float s[kMT][kBK / 8][4];
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
      for (int n = 0; n < kBK / 8; ++n) s[mt][n][0] = s[mt][n][1] = s[mt][n][2] = s[mt][n][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
      uint32_t qf[kMT][4];
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt) load_a(qf[mt], sQ, kLd, wrow + mt * 16, kk * 16);
#pragma unroll
      for (int n = 0; n < kBK / 16; ++n) {
        uint32_t kf[4];
        load_b_nk(kf, tK, kLd, n * 16, kk * 16);
#pragma unroll
        for (int mt = 0; mt < kMT; ++mt) mma2(s[mt][2 * n], s[mt][2 * n + 1], qf[mt], kf);
      }
    }

    // Masks only where a tile reaches past the diagonal, the window's edge or the end.
    int64_t r_lo = q0 + wrow, r_hi = r_lo + kMT * 16 - 1;  // the warp's rows
    bool edge = k0 + kBK > a.S || r_hi >= a.T || (a.causal && k0 + kBK - 1 > a.q_offset + r_lo) ||
                (a.window > 0 && k0 <= a.q_offset + r_hi - a.window);
#pragma unroll
    for (int mt = 0; mt < kMT; ++mt) {
      float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int n = 0; n < kBK / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          int r = e / 2;
          float v = s[mt][n][e] * sc;
          if (edge) {
            int64_t j = k0 + n * 8 + 2 * tq + (e % 2);
            bool masked = t[mt][r] >= a.T || j >= a.S || (a.causal && j > pos[mt][r]) ||
                          (a.window > 0 && j <= pos[mt][r] - a.window);
            if (masked) v = -INFINITY;
          }
          s[mt][n][e] = v;
          mx[r] = fmaxf(mx[r], v);
        }
      float factor[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        float m_new = fmaxf(m[mt][r], mx[r]);
        factor[r] = m_new == -INFINITY ? 1.f : exp2f(m[mt][r] - m_new);
        m[mt][r] = m_new;
        l[mt][r] *= factor[r];
      }
#pragma unroll
      for (int n = 0; n < kBK / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          int r = e / 2;
          float p = m[mt][r] == -INFINITY ? 0.f : exp2f(s[mt][n][e] - m[mt][r]);
          s[mt][n][e] = p;
          l[mt][r] += p;  // this lane's columns only; the row's four lanes add up at the end
        }
#pragma unroll
      for (int n = 0; n < D / 8; ++n) {
        o[mt][n][0] *= factor[0];
        o[mt][n][1] *= factor[0];
        o[mt][n][2] *= factor[1];
        o[mt][n][3] *= factor[1];
      }
    }
#pragma unroll
    for (int kc = 0; kc < kBK / 16; ++kc) {
      uint32_t pf[kMT][4];
#pragma unroll
      for (int mt = 0; mt < kMT; ++mt) c_to_a(pf[mt], s[mt][2 * kc], s[mt][2 * kc + 1]);
#pragma unroll
      for (int n = 0; n < D / 16; ++n) {
        uint32_t vf[4];
        load_b_kn(vf, tV, kLd, n * 16, kc * 16);
#pragma unroll
        for (int mt = 0; mt < kMT; ++mt) mma2(o[mt][2 * n], o[mt][2 * n + 1], pf[mt], vf);
      }
    }
    __syncthreads();  // tile i's buffers are free for tile i + 2
  }

#pragma unroll
  for (int mt = 0; mt < kMT; ++mt)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float lr = l[mt][r];
      lr += __shfl_xor_sync(0xffffffffu, lr, 1);
      lr += __shfl_xor_sync(0xffffffffu, lr, 2);
      if (t[mt][r] >= a.T) continue;
      float inv = lr > 0.f ? 1.f / lr : 0.f;  // a fully masked row outputs zeros
      bf* orow = a.out + (bh * a.T + t[mt][r]) * D;
#pragma unroll
      for (int n = 0; n < D / 8; ++n)
        *reinterpret_cast<uint32_t*>(orow + n * 8 + 2 * tq) =
            pack(o[mt][n][2 * r] * inv, o[mt][n][2 * r + 1] * inv);
      if (tq == 0) a.lse[bh * a.T + t[mt][r]] = lr > 0.f ? m[mt][r] / kLog2e + logf(lr) : INFINITY;
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
  dim3 grid(unsigned((a.T + kBQ<D> - 1) / kBQ<D>), unsigned(B * a.Hq));
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
