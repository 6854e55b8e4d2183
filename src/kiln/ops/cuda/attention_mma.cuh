#pragma once
// What the tensor-core attention kernels share: bf16 mma.sync m16n8k16 with f32 accumulation,
// ldmatrix loads of its operands from shared memory, and tile loads into shared memory.
//
// Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k16"), lane = 4 g + t; each register
// holds two bf16, the lower column (or k) in the low half:
//   A 16x16 (row): a0 (row g, k 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8, 2t+8..)
//   B 16x8 (col):  b0 (k 2t..2t+1, col g), b1 (k 2t+8.., col g)
//   C 16x8 (f32):  c0, c1 (row g, cols 2t, 2t+1), c2, c3 (row g+8, cols 2t, 2t+1)
// C of two adjacent 8-column tiles is, packed to bf16, the A fragment of a 16-wide k chunk: that
// is how the softmax probabilities feed the next product without leaving registers.
// ldmatrix x4 loads four 8x8 b16 matrices; lane l gives the address of row l % 8 of matrix l / 8.
// Each helper below says which rows and columns it reads, with `ld` the row pitch in elements.
#include <cuda_bf16.h>

#include <cstdint>

namespace kiln::cuda::mma {

using bf = __nv_bfloat16;

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return uint32_t(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const bf* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], const bf* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// c += a b
__device__ __forceinline__ void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                    uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// c0 += a b for the 8 columns of b[0], b[1] and c1 += a b for those of b[2], b[3]: the two tiles
// one load_b_* brings.
__device__ __forceinline__ void mma2(float (&c0)[4], float (&c1)[4], const uint32_t (&a)[4],
                                     const uint32_t (&b)[4]) {
  mma(c0, a, b[0], b[1]);
  mma(c1, a, b[2], b[3]);
}

__device__ __forceinline__ uint32_t pack(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

// The A fragment of a 16-wide k chunk from the f32 C fragments of its two 8-column halves.
__device__ __forceinline__ void c_to_a(uint32_t (&a)[4], const float (&lo)[4],
                                       const float (&hi)[4]) {
  a[0] = pack(lo[0], lo[1]);
  a[1] = pack(lo[2], lo[3]);
  a[2] = pack(hi[0], hi[1]);
  a[3] = pack(hi[2], hi[3]);
}

// A fragment of rows r0..r0+15, cols c0..c0+15 of a row-major tile.
__device__ __forceinline__ void load_a(uint32_t (&a)[4], const bf* tile, int ld, int r0, int c0) {
  int l = threadIdx.x % 32, j = l / 8;
  ldsm_x4(a, tile + (r0 + l % 8 + (j % 2) * 8) * ld + c0 + (j / 2) * 8);
}

// A fragment of A = X^T, rows (m) m0..m0+15 and k k0..k0+15, from a row-major tile X[k][m].
__device__ __forceinline__ void load_a_trans(uint32_t (&a)[4], const bf* tile, int ld, int m0,
                                             int k0) {
  int l = threadIdx.x % 32, j = l / 8;
  ldsm_x4_trans(a, tile + (k0 + l % 8 + (j / 2) * 8) * ld + m0 + (j % 2) * 8);
}

// B fragments of two 8-column tiles (n0.., n0+8..) at k chunk k0..k0+15, where B[k][n] = X[n][k]
// and X is a row-major tile (the keys of Q K^T): b[0], b[1] for tile n0; b[2], b[3] for n0+8.
__device__ __forceinline__ void load_b_nk(uint32_t (&b)[4], const bf* tile, int ld, int n0,
                                          int k0) {
  int l = threadIdx.x % 32, j = l / 8;
  ldsm_x4(b, tile + (n0 + l % 8 + (j / 2) * 8) * ld + k0 + (j % 2) * 8);
}

// The same where B[k][n] = X[k][n] is itself row-major (the values of P V).
__device__ __forceinline__ void load_b_kn(uint32_t (&b)[4], const bf* tile, int ld, int n0,
                                          int k0) {
  int l = threadIdx.x % 32, j = l / 8;
  ldsm_x4_trans(b, tile + (k0 + l % 8 + (j % 2) * 8) * ld + n0 + (j / 2) * 8);
}

// rows x D bf16 from a strided source into shared memory (pitch D + 8); rows past `valid` zero.
template <int D>
__device__ void load_tile(bf* dst, const bf* src, int64_t row_stride, int64_t rows, int64_t valid) {
  constexpr int kVec = D / 8;  // 16-byte vectors per row
  for (int i = threadIdx.x; i < rows * kVec; i += blockDim.x) {
    int r = i / kVec, c = (i % kVec) * 8;
    uint4 val = make_uint4(0, 0, 0, 0);
    if (r < valid) val = *reinterpret_cast<const uint4*>(src + r * row_stride + c);
    *reinterpret_cast<uint4*>(dst + r * (D + 8) + c) = val;
  }
}

// The same copy issued asynchronously (cp.async, 16 bytes a lane, rows past `valid` zero-filled),
// so the next tile loads while this one is multiplied; commit() closes a group, wait<N>() waits
// until at most N groups are in flight. Shared memory is read only after a barrier that follows
// the wait.
__device__ __forceinline__ void cp_async_16(bf* dst, const bf* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void commit() {
  asm volatile("cp.async.commit_group;\n");
}
template <int N>
__device__ __forceinline__ void wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
template <int D>
__device__ void load_tile_async(bf* dst, const bf* src, int64_t row_stride, int64_t rows,
                                int64_t valid) {
  constexpr int kVec = D / 8;
  for (int i = threadIdx.x; i < rows * kVec; i += blockDim.x) {
    int r = i / kVec, c = (i % kVec) * 8;
    bool in = r < valid;
    cp_async_16(dst + r * (D + 8) + c, in ? src + r * row_stride + c : src, in);
  }
}

}  // namespace kiln::cuda::mma
