// Attention backward on the tensor cores, FlashAttention-2 style. A block owns 64 keys of one kv
// head and walks every query tile of the query heads that share it (GQA), so dK and dV sum in
// shared memory without atomics. Per query tile, with P recomputed from the saved log-sum-exp:
//   dV += P^T dO,   dP^T = V dO^T,   dS^T = P^T (dP^T - delta) scale,
//   dK += dS^T Q,   dQ += dS K   (dQ summed over key blocks by f32 atomics in global memory),
// where delta = rowsum(dO * O) comes from a first small kernel. Each warp owns 16 of the keys;
// products are bf16 WMMA with f32 accumulation, the accumulators kept in shared memory.
#include <mma.h>

#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/cuda/attention_tc.h"

namespace kiln::cuda {
namespace {

namespace wmma = nvcuda::wmma;
using bf = __nv_bfloat16;

constexpr int kB = 64, kWarps = 4, kLdF = kB + 4, kLdH = kB + 8;

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
  return size_t(4) * kB * (D + 8) * 2 + size_t(3) * kB * (D + 4) * 4 + size_t(2) * kB * kLdF * 4 +
         size_t(2) * kB * kLdH * 2 + 2 * kB * 4;
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
__device__ void load_tile(bf* dst, const bf* src, int64_t row_stride, int64_t valid) {
  constexpr int kVec = D / 8;
  for (int i = threadIdx.x; i < kB * kVec; i += blockDim.x) {
    int r = i / kVec, c = (i % kVec) * 8;
    uint4 val = make_uint4(0, 0, 0, 0);
    if (r < valid) val = *reinterpret_cast<const uint4*>(src + r * row_stride + c);
    *reinterpret_cast<uint4*>(dst + r * (D + 8) + c) = val;
  }
}

// acc_tile (16 x D, f32 in shared memory, ld D + 4) += A (16 x 64) B (64 x D).
template <int D, class LayoutA>
__device__ void add_product(float* acc_tile, const bf* a, int lda, const bf* b, int ldb) {
  for (int n = 0; n < D / 16; ++n) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::load_matrix_sync(acc, acc_tile + n * 16, D + 4, wmma::mem_row_major);
    for (int kk = 0; kk < kB / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, bf, LayoutA> fa;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, bf, wmma::row_major> fb;
      const bf* pa = std::is_same_v<LayoutA, wmma::row_major> ? a + kk * 16 : a + kk * 16 * lda;
      wmma::load_matrix_sync(fa, pa, lda);
      wmma::load_matrix_sync(fb, b + kk * 16 * ldb + n * 16, ldb);
      wmma::mma_sync(acc, fa, fb, acc);
    }
    wmma::store_matrix_sync(acc_tile + n * 16, acc, D + 4, wmma::mem_row_major);
  }
}

// out (16 x 64, f32, ld kLdF) = A (16 x D, rows of `a`) B^T where B is 64 rows of D (`b`).
template <int D>
__device__ void product_t(float* out, const bf* a, const bf* b) {
  for (int n = 0; n < kB / 16; ++n) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.f);
    for (int kk = 0; kk < D / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, bf, wmma::row_major> fa;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, bf, wmma::col_major> fb;
      wmma::load_matrix_sync(fa, a + kk * 16, D + 8);
      wmma::load_matrix_sync(fb, b + n * 16 * (D + 8) + kk * 16, D + 8);
      wmma::mma_sync(acc, fa, fb, acc);
    }
    wmma::store_matrix_sync(out + n * 16, acc, kLdF, wmma::mem_row_major);
  }
}

template <int D>
__global__ void __launch_bounds__(kWarps * 32) bwd_tc(Args a) {
  constexpr int kLd = D + 8, kLdO = D + 4;
  extern __shared__ __align__(128) unsigned char smem[];
  bf* sK = reinterpret_cast<bf*>(smem);
  bf* sV = sK + kB * kLd;
  bf* sQ = sV + kB * kLd;
  bf* sdO = sQ + kB * kLd;
  float* sdK = reinterpret_cast<float*>(sdO + kB * kLd);
  float* sdV = sdK + kB * kLdO;
  float* sdQ = sdV + kB * kLdO;
  float* sP = sdQ + kB * kLdO;  // P^T, f32
  float* sdP = sP + kB * kLdF;  // dP^T, f32
  bf* sPh = reinterpret_cast<bf*>(sdP + kB * kLdF);
  bf* sdSh = sPh + kB * kLdH;
  float* sL = reinterpret_cast<float*>(sdSh + kB * kLdH);
  float* sDelta = sL + kB;
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32, w16 = warp * 16;

  int64_t bh = blockIdx.y, b = bh / a.Hkv, hk = bh % a.Hkv, k0 = int64_t(blockIdx.x) * kB;
  load_tile<D>(sK, a.k + b * a.ks[0] + hk * a.ks[1] + k0 * a.ks[2], a.ks[2], a.S - k0);
  load_tile<D>(sV, a.v + b * a.vs[0] + hk * a.vs[1] + k0 * a.vs[2], a.vs[2], a.S - k0);
  for (int i = threadIdx.x; i < kB * kLdO; i += blockDim.x) sdK[i] = sdV[i] = 0.f;

  // Query rows that may see one of these keys: pos >= k0 (causal), pos < k0 + 64 + window.
  int64_t t_begin = a.causal ? max(int64_t(0), k0 - a.q_offset) / kB * kB : 0;
  int64_t t_end = a.window > 0 ? min(a.T, k0 + kB + a.window - a.q_offset) : a.T;
  for (int64_t h = hk * a.G; h < (hk + 1) * a.G; ++h) {
    int64_t qh = b * a.Hq + h;
    for (int64_t q0 = t_begin; q0 < t_end; q0 += kB) {
      __syncthreads();  // the last tile's Q, dO and dS are no longer read
      load_tile<D>(sQ, a.q + b * a.qs[0] + h * a.qs[1] + q0 * a.qs[2], a.qs[2], a.T - q0);
      load_tile<D>(sdO, a.dout + (qh * a.T + q0) * D, D, a.T - q0);
      for (int i = threadIdx.x; i < kB; i += blockDim.x) {
        bool in = q0 + i < a.T;
        sL[i] = in ? a.lse[qh * a.T + q0 + i] : INFINITY;
        sDelta[i] = in ? a.delta[qh * a.T + q0 + i] : 0.f;
      }
      __syncthreads();

      product_t<D>(sP + w16 * kLdF, sK + w16 * kLd, sQ);    // S^T for this warp's keys
      product_t<D>(sdP + w16 * kLdF, sV + w16 * kLd, sdO);  // dP^T
      __syncwarp();
      for (int i = lane; i < 16 * kB; i += 32) {
        int r = i / kB, c = i % kB;
        int64_t j = k0 + w16 + r, t = q0 + c, pos = a.q_offset + t;
        bool masked = t >= a.T || j >= a.S || sL[c] == INFINITY || (a.causal && j > pos) ||
                      (a.window > 0 && j <= pos - a.window);
        float p = masked ? 0.f : __expf(sP[(w16 + r) * kLdF + c] * a.scale - sL[c]);
        float ds = p * (sdP[(w16 + r) * kLdF + c] - sDelta[c]) * a.scale;
        sPh[(w16 + r) * kLdH + c] = __float2bfloat16_rn(p);
        sdSh[(w16 + r) * kLdH + c] = __float2bfloat16_rn(ds);
      }
      __syncwarp();
      add_product<D, wmma::row_major>(sdV + w16 * kLdO, sPh + w16 * kLdH, kLdH, sdO, kLd);
      add_product<D, wmma::row_major>(sdK + w16 * kLdO, sdSh + w16 * kLdH, kLdH, sQ, kLd);
      __syncthreads();  // dS^T of every warp's keys is in sdSh

      // dQ rows w16.. of this tile = dS (16 x 64 keys) K; dS is dS^T read column-major.
      for (int i = lane; i < 16 * kLdO; i += 32) sdQ[w16 * kLdO + i] = 0.f;
      __syncwarp();
      add_product<D, wmma::col_major>(sdQ + w16 * kLdO, sdSh + w16, kLdH, sK, kLd);
      __syncwarp();
      for (int i = lane; i < 16 * D; i += 32) {
        int r = i / D, c = i % D;
        int64_t t = q0 + w16 + r;
        if (t < a.T) atomicAdd(a.dq + (qh * a.T + t) * D + c, sdQ[(w16 + r) * kLdO + c]);
      }
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < kB * D; i += blockDim.x) {
    int r = i / D, c = i % D;
    if (k0 + r >= a.S) continue;
    int64_t o = (bh * a.S + k0 + r) * D + c;
    a.dk[o] = __float2bfloat16_rn(sdK[r * kLdO + c]);
    a.dv[o] = __float2bfloat16_rn(sdV[r * kLdO + c]);
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
  dim3 grid(unsigned((a.S + kB - 1) / kB), unsigned(B * a.Hkv));
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
