// Attention forward on the tensor cores, FlashAttention-2 style: a block takes 64 query rows of
// one head (16 per warp) and walks the visible keys in tiles of 64. Per tile each warp forms its
// 16 x 64 scores with bf16 WMMA products (f32 accumulation), applies the masks and the online
// softmax in f32 (two lanes per row), writes the probabilities as bf16, and adds P V into an f32
// output tile kept in shared memory (rescaled there, since WMMA's register layout is opaque).
// This is the mma.sync generation of the algorithm; the wgmma/TMA version is still to come.
#include <mma.h>

#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/cuda/attention_tc.h"

namespace kiln::cuda {
namespace {

namespace wmma = nvcuda::wmma;
using bf = __nv_bfloat16;

constexpr int kBQ = 64, kBK = 64, kWarps = 4;
constexpr int kLdS = kBK + 4, kLdP = kBK + 8;  // padded rows: fewer shared-memory bank conflicts

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
  return size_t(3) * kBQ * (D + 8) * 2 + size_t(kWarps) * 16 * kLdS * 4 +
         size_t(kWarps) * 16 * kLdP * 2 + size_t(kWarps) * 16 * (D + 4) * 4;
}

// rows x D bf16 from a strided source into shared memory (ld D + 8); rows past `valid` are zero.
template <int D>
__device__ void load_tile(bf* dst, const bf* src, int64_t row_stride, int64_t valid) {
  constexpr int kVec = D / 8;  // 16-byte vectors per row
  for (int i = threadIdx.x; i < kBQ * kVec; i += blockDim.x) {
    int r = i / kVec, c = (i % kVec) * 8;
    uint4 val = make_uint4(0, 0, 0, 0);
    if (r < valid) val = *reinterpret_cast<const uint4*>(src + r * row_stride + c);
    *reinterpret_cast<uint4*>(dst + r * (D + 8) + c) = val;
  }
}

template <int D>
__global__ void __launch_bounds__(kWarps * 32) fwd_tc(Args a) {
  constexpr int kLd = D + 8, kLdO = D + 4;
  extern __shared__ __align__(128) unsigned char smem[];
  bf* sQ = reinterpret_cast<bf*>(smem);
  bf* sK = sQ + kBQ * kLd;
  bf* sV = sK + kBK * kLd;
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  float* sS = reinterpret_cast<float*>(sV + kBK * kLd) + warp * 16 * kLdS;
  bf* sP = reinterpret_cast<bf*>(reinterpret_cast<float*>(sV + kBK * kLd) + kWarps * 16 * kLdS) +
           warp * 16 * kLdP;
  float* sO =
      reinterpret_cast<float*>(
          reinterpret_cast<bf*>(reinterpret_cast<float*>(sV + kBK * kLd) + kWarps * 16 * kLdS) +
          kWarps * 16 * kLdP) +
      warp * 16 * kLdO;

  int64_t bh = blockIdx.y, b = bh / a.Hq, h = bh % a.Hq, hk = h / a.G;
  int64_t q0 = int64_t(blockIdx.x) * kBQ;
  load_tile<D>(sQ, a.q + b * a.qs[0] + h * a.qs[1] + q0 * a.qs[2], a.qs[2], a.T - q0);
  for (int i = lane; i < 16 * kLdO; i += 32) sO[i] = 0.f;

  // Each lane pair owns one of the warp's 16 rows; a lane takes half of each 64-key tile.
  int rr = lane / 2, half = lane % 2;
  int64_t t = q0 + warp * 16 + rr, pos = a.q_offset + t;
  float m = -INFINITY, l = 0.f;

  // Keys any row of this block may see.
  int64_t last = a.causal ? min(a.S, a.q_offset + q0 + kBQ) : a.S;
  int64_t first = a.window > 0 ? max(int64_t(0), a.q_offset + q0 - a.window + 1) : 0;
  first = first / kBK * kBK;
  const bf* kb = a.k + b * a.ks[0] + hk * a.ks[1];
  const bf* vb = a.v + b * a.vs[0] + hk * a.vs[1];
  for (int64_t k0 = first; k0 < last; k0 += kBK) {
    __syncthreads();  // the previous tile's K and V are no longer read
    load_tile<D>(sK, kb + k0 * a.ks[2], a.ks[2], a.S - k0);
    load_tile<D>(sV, vb + k0 * a.vs[2], a.vs[2], a.S - k0);
    __syncthreads();

    for (int n = 0; n < kBK / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      for (int kk = 0; kk < D / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf, wmma::col_major> fb;
        wmma::load_matrix_sync(fa, sQ + warp * 16 * kLd + kk * 16, kLd);
        wmma::load_matrix_sync(fb, sK + n * 16 * kLd + kk * 16, kLd);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(sS + n * 16, acc, kLdS, wmma::mem_row_major);
    }
    __syncwarp();

    float s[kBK / 2], tile_max = -INFINITY;
#pragma unroll
    for (int c = 0; c < kBK / 2; ++c) {
      int64_t j = k0 + half * (kBK / 2) + c;
      bool masked =
          t >= a.T || j >= a.S || (a.causal && j > pos) || (a.window > 0 && j <= pos - a.window);
      s[c] = masked ? -INFINITY : sS[rr * kLdS + half * (kBK / 2) + c] * a.scale;
      tile_max = fmaxf(tile_max, s[c]);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    float m_new = fmaxf(m, tile_max);
    float factor = m_new == -INFINITY ? 1.f : __expf(m - m_new), sum = 0.f;
#pragma unroll
    for (int c = 0; c < kBK / 2; ++c) {
      float p = m_new == -INFINITY ? 0.f : __expf(s[c] - m_new);
      sum += p;
      sP[rr * kLdP + half * (kBK / 2) + c] = __float2bfloat16_rn(p);
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    l = l * factor + sum;
    m = m_new;
    for (int c = half * (D / 2); c < (half + 1) * (D / 2); ++c) sO[rr * kLdO + c] *= factor;
    __syncwarp();

    for (int n = 0; n < D / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, sO + n * 16, kLdO, wmma::mem_row_major);
      for (int kk = 0; kk < kBK / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf, wmma::row_major> fb;
        wmma::load_matrix_sync(fa, sP + kk * 16, kLdP);
        wmma::load_matrix_sync(fb, sV + kk * 16 * kLd + n * 16, kLd);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(sO + n * 16, acc, kLdO, wmma::mem_row_major);
    }
    __syncwarp();
  }

  if (t >= a.T) return;
  float inv = l > 0.f ? 1.f / l : 0.f;  // a fully masked row outputs zeros
  bf* orow = a.out + (bh * a.T + t) * D;
  for (int c = half * (D / 2); c < (half + 1) * (D / 2); ++c)
    orow[c] = __float2bfloat16_rn(sO[rr * kLdO + c] * inv);
  if (half == 0) a.lse[bh * a.T + t] = l > 0.f ? m + logf(l) : INFINITY;
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
