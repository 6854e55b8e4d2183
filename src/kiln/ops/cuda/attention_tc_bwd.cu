// Attention backward on the tensor cores, FlashAttention-2 style. A block owns 64 keys of one kv
// head (16 per warp) and walks every query tile of the query heads that share it (GQA), so dK and
// dV sum in registers without atomics. Per query tile, with P recomputed from the saved
// log-sum-exp:
//   dV += P^T dO,   dP^T = V dO^T,   dS^T = P^T (dP^T - delta) scale,
//   dK += dS^T Q,   dQ += dS K   (dQ summed over key blocks by f32 atomics in global memory),
// where delta = rowsum(dO * O) comes from a first small kernel. Products are bf16 mma.sync with
// f32 accumulation (attention_mma.cuh); P^T, dP^T, dS^T and the dK, dV accumulators stay in
// registers, and dS^T goes through shared memory only for dQ, whose rows the warps split. The
// query tiles (Q, dO, lse, delta) are double-buffered: the next loads by cp.async during this one.
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/cuda/attention_mma.cuh"
#include "kiln/ops/cuda/attention_tc.h"

namespace kiln::cuda {
namespace {

using namespace mma;

constexpr int kBK = 64, kWarps = 4;
constexpr float kLog2e = 1.4426950408889634f;
// Query rows per tile: fewer for head dim 128, so the register tiles fit.
template <int D>
constexpr int kBQ = D == 128 ? 32 : 64;

struct Args {
  const bf *q, *k, *v, *dout;
  const float *lse, *delta;
  float* dq;  // f32 accumulator [B, Hq, T, D]
  bf *dk, *dv;
  int64_t Hq, Hkv, G, T, S;
  int64_t qs[3], ks[3], vs[3];
  float scale;
  int64_t window, q_offset;
  bool causal;
};

template <int D>
constexpr size_t smem_bytes() {
  return size_t(2 * kBK + 4 * kBQ<D>) * (D + 8) * 2 + size_t(kBK) * (kBQ<D> + 8) * 2 +
         size_t(4) * kBQ<D> * 4;
}

// delta[row] = sum_d dout[row, d] * out[row, d]; one warp per row, both contiguous.
__global__ void delta_k(const bf* dout, const bf* out, float* delta, int64_t rows, int64_t D) {
  int64_t row = int64_t(blockIdx.x) * 4 + threadIdx.x / 32;
  if (row >= rows) return;
  float s = 0.f;
  for (int64_t d = threadIdx.x % 32; d < D; d += 32)
    s += __bfloat162float(dout[row * D + d]) * __bfloat162float(out[row * D + d]);
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  if (threadIdx.x % 32 == 0) delta[row] = s;
}

template <int D>
__global__ void __launch_bounds__(kWarps * 32) bwd_tc(Args a) {
  constexpr int kLd = D + 8, BQ = kBQ<D>, kLdS = BQ + 8;
  extern __shared__ __align__(128) unsigned char smem[];
  bf* sK = reinterpret_cast<bf*>(smem);
  bf* sV = sK + kBK * kLd;
  bf* sQ0 = sV + kBK * kLd;                                 // two buffers
  bf* sdO0 = sQ0 + 2 * BQ * kLd;                            // two buffers
  bf* sdS = sdO0 + 2 * BQ * kLd;                            // dS^T: [key][query]
  float* sL0 = reinterpret_cast<float*>(sdS + kBK * kLdS);  // two buffers
  float* sDelta0 = sL0 + 2 * BQ;                            // two buffers
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, tq = lane % 4;
  int w16 = warp * 16;
  // dQ split: warp w takes query rows (w % (BQ / 16)) * 16 and a DW-wide column band of D.
  constexpr int kQW = BQ / 16, DW = D * kQW / kWarps;
  int dq_r0 = (warp % kQW) * 16, dq_c0 = (warp / kQW) * DW;

  int64_t bh = blockIdx.y, b = bh / a.Hkv, hk = bh % a.Hkv, k0 = int64_t(blockIdx.x) * kBK;
  load_tile<D>(sK, a.k + b * a.ks[0] + hk * a.ks[1] + k0 * a.ks[2], a.ks[2], kBK, a.S - k0);
  load_tile<D>(sV, a.v + b * a.vs[0] + hk * a.vs[1] + k0 * a.vs[2], a.vs[2], kBK, a.S - k0);
  float dk[D / 8][4], dv[D / 8][4];
#pragma unroll
  for (int n = 0; n < D / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) dk[n][e] = dv[n][e] = 0.f;
  // This lane's two keys: g and g + 8 of the warp's 16.
  int64_t key[2] = {k0 + w16 + g, k0 + w16 + g + 8};
  const float sc = a.scale * kLog2e;

  // Query rows that may see one of these keys: pos >= k0 (causal), pos < k0 + 64 + window.
  int64_t t_begin = a.causal ? max(int64_t(0), k0 - a.q_offset) / BQ * BQ : 0;
  int64_t t_end = a.window > 0 ? min(a.T, k0 + kBK + a.window - a.q_offset) : a.T;
  // Tile i is query tile i % tiles_per_head of head hk G + i / tiles_per_head.
  int64_t per_head = t_end > t_begin ? (t_end - t_begin + BQ - 1) / BQ : 0;
  int64_t tiles = a.G * per_head;
  auto head_of = [&](int64_t i) { return hk * a.G + i / per_head; };
  auto row_of = [&](int64_t i) { return t_begin + (i % per_head) * BQ; };
  auto issue = [&](int64_t i) {
    int64_t h = head_of(i), q0 = row_of(i), qh = b * a.Hq + h;
    int buf = int(i % 2);
    load_tile_async<D>(sQ0 + buf * BQ * kLd, a.q + b * a.qs[0] + h * a.qs[1] + q0 * a.qs[2],
                       a.qs[2], BQ, a.T - q0);
    load_tile_async<D>(sdO0 + buf * BQ * kLd, a.dout + (qh * a.T + q0) * D, D, BQ, a.T - q0);
    commit();
    for (int i2 = threadIdx.x; i2 < BQ; i2 += blockDim.x) {
      bool in = q0 + i2 < a.T;
      sL0[buf * BQ + i2] = in ? a.lse[qh * a.T + q0 + i2] * kLog2e : INFINITY;
      sDelta0[buf * BQ + i2] = in ? a.delta[qh * a.T + q0 + i2] : 0.f;
    }
  };
  if (tiles > 0) issue(0);
  for (int64_t i = 0; i < tiles; ++i) {
    {
      int64_t q0 = row_of(i), qh = b * a.Hq + head_of(i);
      if (i + 1 < tiles) {
        issue(i + 1);
        wait<1>();
      } else {
        wait<0>();
      }
      __syncthreads();  // tile i (and K, V at the start) is in shared memory for every thread
      int buf = int(i % 2);
      const bf* sQ = sQ0 + buf * BQ * kLd;
      const bf* sdO = sdO0 + buf * BQ * kLd;
      const float* sL = sL0 + buf * BQ;
      const float* sDelta = sDelta0 + buf * BQ;

      // S^T and dP^T for this warp's 16 keys x BQ queries.
      float st[BQ / 8][4], dpt[BQ / 8][4];
#pragma unroll
      for (int n = 0; n < BQ / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) st[n][e] = dpt[n][e] = 0.f;
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        uint32_t kf[4], vf[4];
        load_a(kf, sK, kLd, w16, kk * 16);
        load_a(vf, sV, kLd, w16, kk * 16);
#pragma unroll
        for (int n = 0; n < BQ / 16; ++n) {
          uint32_t qb[4], ob[4];
          load_b_nk(qb, sQ, kLd, n * 16, kk * 16);
          load_b_nk(ob, sdO, kLd, n * 16, kk * 16);
          mma2(st[2 * n], st[2 * n + 1], kf, qb);
          mma2(dpt[2 * n], dpt[2 * n + 1], vf, ob);
        }
      }
      // P^T = exp(S^T scale - lse) (0 where masked); dS^T = P^T (dP^T - delta) scale. st
      // becomes P^T and dpt becomes dS^T.
#pragma unroll
      for (int n = 0; n < BQ / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          int c = n * 8 + 2 * tq + (e % 2);
          int64_t j = key[e / 2], tt = q0 + c, pos = a.q_offset + tt;
          bool masked = tt >= a.T || j >= a.S || (a.causal && j > pos) ||
                        (a.window > 0 && j <= pos - a.window);
          float p = masked ? 0.f : exp2f(st[n][e] * sc - sL[c]);
          st[n][e] = p;
          dpt[n][e] = p * (dpt[n][e] - sDelta[c]) * a.scale;
        }
        // dV += P^T dO and dK += dS^T Q over the tile's queries, 16 at a time.
#pragma unroll
      for (int kc = 0; kc < BQ / 16; ++kc) {
        uint32_t pf[4], sf[4];
        c_to_a(pf, st[2 * kc], st[2 * kc + 1]);
        c_to_a(sf, dpt[2 * kc], dpt[2 * kc + 1]);
#pragma unroll
        for (int n = 0; n < D / 16; ++n) {
          uint32_t ob[4], qb[4];
          load_b_kn(ob, sdO, kLd, n * 16, kc * 16);
          load_b_kn(qb, sQ, kLd, n * 16, kc * 16);
          mma2(dv[2 * n], dv[2 * n + 1], pf, ob);
          mma2(dk[2 * n], dk[2 * n + 1], sf, qb);
        }
        // dS^T rows (this warp's keys) into shared memory for dQ.
        *reinterpret_cast<uint32_t*>(sdS + (w16 + g) * kLdS + kc * 16 + 2 * tq) = sf[0];
        *reinterpret_cast<uint32_t*>(sdS + (w16 + g + 8) * kLdS + kc * 16 + 2 * tq) = sf[1];
        *reinterpret_cast<uint32_t*>(sdS + (w16 + g) * kLdS + kc * 16 + 8 + 2 * tq) = sf[2];
        *reinterpret_cast<uint32_t*>(sdS + (w16 + g + 8) * kLdS + kc * 16 + 8 + 2 * tq) = sf[3];
      }
      __syncthreads();  // dS^T of every warp's keys is in sdS

      // dQ rows dq_r0.. (16) x columns dq_c0.. (DW) = dS (16 x 64 keys) K (64 x DW).
      float dq[DW / 8][4];
#pragma unroll
      for (int n = 0; n < DW / 8; ++n) dq[n][0] = dq[n][1] = dq[n][2] = dq[n][3] = 0.f;
#pragma unroll
      for (int kc = 0; kc < kBK / 16; ++kc) {
        uint32_t af[4];
        load_a_trans(af, sdS, kLdS, dq_r0, kc * 16);
#pragma unroll
        for (int n = 0; n < DW / 16; ++n) {
          uint32_t kb[4];
          load_b_kn(kb, sK, kLd, dq_c0 + n * 16, kc * 16);
          mma2(dq[2 * n], dq[2 * n + 1], af, kb);
        }
      }
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        int64_t tt = q0 + dq_r0 + g + 8 * r;
        if (tt >= a.T) continue;
        float* row = a.dq + (qh * a.T + tt) * D + dq_c0;
#pragma unroll
        for (int n = 0; n < DW / 8; ++n) {
          atomicAdd(row + n * 8 + 2 * tq, dq[n][2 * r]);
          atomicAdd(row + n * 8 + 2 * tq + 1, dq[n][2 * r + 1]);
        }
      }
    }
    __syncthreads();  // tile i's buffers and dS^T are free for the next tiles
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    if (key[r] >= a.S) continue;
    int64_t o = (bh * a.S + key[r]) * D;
#pragma unroll
    for (int n = 0; n < D / 8; ++n) {
      *reinterpret_cast<uint32_t*>(a.dk + o + n * 8 + 2 * tq) =
          pack(dk[n][2 * r], dk[n][2 * r + 1]);
      *reinterpret_cast<uint32_t*>(a.dv + o + n * 8 + 2 * tq) =
          pack(dv[n][2 * r], dv[n][2 * r + 1]);
    }
  }
}

bool aligned_rows(const Tensor& x) {
  return reinterpret_cast<uintptr_t>(x.raw_data()) % 16 == 0 && x.stride(0) % 8 == 0 &&
         x.stride(1) % 8 == 0 && x.stride(2) % 8 == 0;
}

template <int D>
void launch(const Args& a, int64_t B) {
  static bool configured = [] {
    KILN_CUDA_CHECK(cudaFuncSetAttribute(bwd_tc<D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         int(smem_bytes<D>())));
    return true;
  }();
  (void)configured;
  dim3 grid(unsigned((a.S + kBK - 1) / kBK), unsigned(B * a.Hkv));
  bwd_tc<D><<<grid, kWarps * 32, smem_bytes<D>(), stream()>>>(a);
  KILN_CUDA_LAUNCHED();
}

}  // namespace

bool attention_backward_tensor_cores(const Tensor& dout, const Tensor& q, const Tensor& k,
                                     const Tensor& v, const Tensor& out, const Tensor& lse,
                                     const ops::AttentionParams& p, const Tensor& dq,
                                     const Tensor& dk, const Tensor& dv) {
  int64_t D = q.size(3);
  if (q.dtype() != DType::BF16 || v.size(3) != D || (D != 64 && D != 128) || p.bias.defined() ||
      p.key_padding.defined() || !aligned_rows(q) || !aligned_rows(k) || !aligned_rows(v))
    return false;
  if (q.numel() == 0 || k.size(2) == 0) return false;
  Tensor dout_c = dout.contiguous();
  int64_t rows = q.size(0) * q.size(1) * q.size(2);
  Tensor delta = Tensor::empty({rows}, DType::F32, q.device());
  Tensor dq_acc = Tensor::zeros(dq.sizes(), DType::F32, q.device());
  delta_k<<<grid_for(rows, 4), 128, 0, stream()>>>(ptr<kiln::bf16>(dout_c), ptr<kiln::bf16>(out),
                                                   ptr<float>(delta), rows, D);
  KILN_CUDA_LAUNCHED();
  Args a{ptr<kiln::bf16>(q),
         ptr<kiln::bf16>(k),
         ptr<kiln::bf16>(v),
         ptr<kiln::bf16>(dout_c),
         static_cast<const float*>(lse.raw_data()),
         ptr<float>(delta),
         ptr<float>(dq_acc),
         ptr<kiln::bf16>(dk),
         ptr<kiln::bf16>(dv),
         q.size(1),
         k.size(1),
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
  dq.copy_(dq_acc);
  return true;
}

}  // namespace kiln::cuda
