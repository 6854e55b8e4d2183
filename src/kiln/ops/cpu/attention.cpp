// Tiled attention (FlashAttention-2 on CPU). Work is cut into blocks of up to kBq queries x kBk
// keys; a block's scores live in a thread's scratch and are reduced by an online softmax, so memory
// stays O(T + S) per head.
//
// Blocks are held transposed, keys x queries: scores^T = K Q^T reads K's rows as they are (no
// transposed copy of K), and the softmax over keys becomes a column reduction, which SIMD does
// lane-wise with no horizontal sums. Only each query block is packed (as Q^T, with the scale in).
// Operands that are not already rows of the compute type (bf16 inputs, head dims that are not
// whole vectors) are first copied into that form.
//
// Backward runs one task per (batch, kv head, key segment): the task owns dK and dV of its keys, so
// the query heads sharing a kv head (GQA) sum into them without locks. dQ is summed per segment and
// the segments added at the end.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "kiln/core/dispatch.h"
#include "kiln/core/thread_pool.h"
#include "kiln/ops/attention.h"
#include "kiln/ops/cpu/simd.h"
#include "kiln/ops/cpu/tile_gemm.h"

namespace kiln::ops::cpu {

namespace {

constexpr int64_t kBq = 64, kBk = 64;

template <class A>
using Buf = std::unique_ptr<A[]>;
template <class A>
Buf<A> buffer(int64_t n) {
  return std::make_unique_for_overwrite<A[]>(size_t(std::max<int64_t>(n, 1)));
}

template <class A>
constexpr A kInf = std::numeric_limits<A>::infinity();

struct Dims {
  int64_t B, Hq, Hkv, G, T, S, D, Dv;
  int64_t qw, nqb;  // query block width (whole vectors) and query blocks per head
};

template <class A>
Dims dims_of(const Tensor& q, const Tensor& k, const Tensor& v) {
  Dims s{q.size(0), q.size(1), k.size(1), q.size(1) / k.size(1), q.size(2), k.size(2), q.size(3),
         v.size(3), 0,         0};
  s.qw = std::min(kBq, simd::round_up<A>(std::max<int64_t>(s.T, 1)));
  s.nqb = (s.T + s.qw - 1) / s.qw;
  return s;
}

// Rows of a [B, H, L, n] operand: row (b, h, i) starts at p + b*s0 + h*s1 + i*s2, unit stride
// after.
template <class E>
struct Rows {
  const E* p;
  int64_t s0, s1, s2;
  const E* row(int64_t b, int64_t h, int64_t i) const { return p + b * s0 + h * s1 + i * s2; }
};

template <class T>
Rows<T> rows_of(const Tensor& t) {
  return {static_cast<const T*>(t.raw_data()), t.stride(0), t.stride(1), t.stride(2)};
}

// t's rows in the compute type: the tensor itself when it already is A (and, with whole_vectors,
// rows are a multiple of the vector width), else a copy into `store` with rows zero-padded to
// whole vectors.
template <class T, class A>
Rows<A> rows_as(const Tensor& t, bool whole_vectors, Buf<A>& store) {
  int64_t B = t.size(0), H = t.size(1), L = t.size(2), n = t.size(3);
  if constexpr (std::is_same_v<T, A>)
    if (!whole_vectors || n % simd::kLanes<A> == 0) return rows_of<A>(t);
  int64_t ld = simd::round_up<A>(n);
  store = buffer<A>(B * H * L * ld);
  Rows<T> src = rows_of<T>(t);
  A* dst = store.get();
  parallel_for(B * H * L, 256, [&](int64_t b0, int64_t e0) {
    for (int64_t w = b0; w < e0; ++w) {
      const T* r = src.row(w / (H * L), w / L % H, w % L);
      for (int64_t d = 0; d < n; ++d) dst[w * ld + d] = A(r[d]);
      for (int64_t d = n; d < ld; ++d) dst[w * ld + d] = A(0);
    }
  });
  return {dst, H * L * ld, L * ld, ld};
}

// Rows i0 .. i0+m of head (b, h), transposed and times scale: dst[d][i], columns m .. qw zero.
template <class T, class A>
void pack_block_t(const Rows<T>& src, int64_t b, int64_t h, int64_t i0, int64_t m, int64_t n,
                  int64_t qw, A scale, A* dst) {
  for (int64_t i = 0; i < m; ++i) {
    const T* r = src.row(b, h, i0 + i);
    for (int64_t d = 0; d < n; ++d) dst[d * qw + i] = A(r[d]) * scale;
  }
  for (int64_t d = 0; d < n; ++d)
    for (int64_t i = m; i < qw; ++i) dst[d * qw + i] = A(0);
}

// The masks of one call, applied to a block of transposed scores.
template <class T, class A>
struct Masker {
  const AttentionParams& p;
  int64_t S;
  const uint8_t* kp = nullptr;  // [B, S]
  const T* bias = nullptr;      // expanded [B, Hq, T, S]
  int64_t bs[4] = {0, 0, 0, 0};

  Masker(const AttentionParams& p_, int64_t S_) : p(p_), S(S_) {
    if (p.key_padding.defined()) kp = p.key_padding.data<uint8_t>();
    if (p.bias.defined()) {
      bias = static_cast<const T*>(p.bias.raw_data());
      for (int d = 0; d < 4; ++d) bs[d] = p.bias.stride(d);
    }
  }

  // st[nk][qw]: keys j0.. (rows) against queries i0.. (columns, m of them) of (b, h). Adds the
  // bias and sets to -inf what is masked, and the columns past m.
  void apply(A* st, int64_t qw, int64_t nk, int64_t b, int64_t h, int64_t i0, int64_t m,
             int64_t j0) const {
    for (int64_t j = 0; j < nk; ++j) {
      A* row = st + j * qw;
      int64_t key = j0 + j;
      // Query i sees the key when key <= q_offset + i (causal) and key > q_offset + i - window.
      int64_t c0 = p.causal ? std::clamp<int64_t>(key - p.q_offset - i0, 0, m) : 0;
      int64_t c1 = p.window > 0 ? std::clamp<int64_t>(key + p.window - p.q_offset - i0, c0, m) : m;
      if (kp && kp[b * S + key]) c1 = c0;
      for (int64_t c = 0; c < c0; ++c) row[c] = -kInf<A>;
      for (int64_t c = c1; c < qw; ++c) row[c] = -kInf<A>;
      if (bias) {
        const T* bp = bias + b * bs[0] + h * bs[1] + i0 * bs[2] + key * bs[3];
        for (int64_t c = c0; c < c1; ++c) row[c] += A(bp[c * bs[2]]);
      }
    }
  }

  // Keys [begin, end) that any of the queries [i0, i1) may see.
  void key_range(int64_t i0, int64_t i1, int64_t& begin, int64_t& end) const {
    end = p.causal ? std::clamp<int64_t>(p.q_offset + i1, 0, S) : S;
    begin = p.window > 0 ? std::clamp<int64_t>(p.q_offset + i0 - p.window + 1, 0, S) : 0;
  }
  // Queries [begin, end) of [0, n) that may see any of the keys [j0, j1).
  void query_range(int64_t n, int64_t j0, int64_t j1, int64_t& begin, int64_t& end) const {
    begin = p.causal ? std::clamp<int64_t>(j0 - p.q_offset, 0, n) : 0;
    end = p.window > 0 ? std::clamp<int64_t>(j1 - 1 + p.window - p.q_offset, 0, n) : n;
  }
};

// One query block against all the keys it may see, with an online softmax per query column.
template <class T, class A>
struct ForwardBlock {
  static constexpr int64_t L = simd::kLanes<A>;
  using V = simd::Vec<A>;
  const Dims& s;
  const Masker<T, A>& mask;
  Rows<A> k, v;
  int64_t Dvp;
  A scale;
  Buf<A> qt, st, o, mx, l, alpha;

  ForwardBlock(const Dims& s_, const Masker<T, A>& m_, Rows<A> k_, Rows<A> v_, A scale_)
      : s(s_),
        mask(m_),
        k(k_),
        v(v_),
        Dvp(simd::round_up<A>(s_.Dv)),
        scale(scale_),
        qt(buffer<A>(s_.D * s_.qw)),
        st(buffer<A>(kBk * s_.qw)),
        o(buffer<A>(s_.qw * Dvp)),
        mx(buffer<A>(s_.qw)),
        l(buffer<A>(s_.qw)),
        alpha(buffer<A>(s_.qw)) {}

  void run(const Rows<T>& q, int64_t b, int64_t h, int64_t i0, T* out, A* lse) {
    const int64_t qw = s.qw, m = std::min(qw, s.T - i0), hk = h / s.G;
    pack_block_t(q, b, h, i0, m, s.D, qw, scale, qt.get());
    std::fill_n(o.get(), m * Dvp, A(0));
    std::fill_n(mx.get(), qw, -kInf<A>);
    std::fill_n(l.get(), qw, A(0));
    int64_t kbeg, kend;
    mask.key_range(i0, i0 + m, kbeg, kend);
    for (int64_t j0 = kbeg; j0 < kend; j0 += kBk) {
      int64_t nk = std::min(kBk, kend - j0);
      tile_gemm<A>(nk, qw, s.D, {k.row(b, hk, j0), k.s2, 1}, qt.get(), qw, st.get(), qw, false);
      mask.apply(st.get(), qw, nk, b, h, i0, m, j0);
      softmax_step(nk, m);
      tile_gemm<A>(m, Dvp, nk, {st.get(), 1, qw}, v.row(b, hk, j0), v.s2, o.get(), Dvp, true);
    }
    for (int64_t r = 0; r < m; ++r) {
      T* dst = out + r * s.Dv;
      if (l[r] == A(0)) {  // every key masked
        std::fill_n(dst, s.Dv, T(A(0)));
        lse[r] = kInf<A>;
        continue;
      }
      A inv = A(1) / l[r];
      for (int64_t d = 0; d < s.Dv; ++d) dst[d] = T(o[r * Dvp + d] * inv);
      lse[r] = mx[r] + std::log(l[r]);
    }
  }

  // Scores st[nk][qw] become probabilities under each column's running max; the running sums and
  // output rows are rescaled to the new max. A column with no visible key yet keeps max -inf.
  void softmax_step(int64_t nk, int64_t m) {
    const int64_t qw = s.qw;
    for (int64_t c = 0; c < qw; c += L) {
      V bm = simd::splat(-kInf<A>);
      for (int64_t j = 0; j < nk; ++j) bm = simd::vmax<A>(bm, simd::load(&st[j * qw + c]));
      V mo = simd::load(&mx[c]), mn = simd::vmax<A>(mo, bm);
      V mu = mn == simd::splat(-kInf<A>) ? V{} : mn;
      V sum{};
      for (int64_t j = 0; j < nk; ++j) {
        V e = simd::exp(simd::load(&st[j * qw + c]) - mu);
        simd::store(&st[j * qw + c], e);
        sum += e;
      }
      V a = simd::exp(mo - mu);
      simd::store(&l[c], simd::load(&l[c]) * a + sum);
      simd::store(&mx[c], mn);
      simd::store(&alpha[c], a);
    }
    for (int64_t r = 0; r < m; ++r)
      if (alpha[r] != A(1))
        for (int64_t d = 0; d < Dvp; ++d) o[r * Dvp + d] *= alpha[r];
  }
};

template <class T>
void forward(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
             const Tensor& out, const Tensor& lse) {
  using A = acc_t<T>;
  Dims s = dims_of<A>(q, k, v);
  Masker<T, A> mask(p, s.S);
  Buf<A> kstore, vstore;
  Rows<A> kr = rows_as<T, A>(k, false, kstore);  // rows of A in the scores
  Rows<A> vr = rows_as<T, A>(v, true, vstore);   // rows of B in P V
  Rows<T> qr = rows_of<T>(q);
  T* o0 = out.data<T>();
  A* l0 = lse.data<A>();
  parallel_for(s.B * s.Hq * s.nqb, 1, [&](int64_t b0, int64_t e0) {
    ForwardBlock<T, A> blk(s, mask, kr, vr, A(p.scale));
    for (int64_t w = b0; w < e0; ++w) {
      int64_t bh = w / s.nqb, i0 = w % s.nqb * s.qw;
      blk.run(qr, bh / s.Hq, bh % s.Hq, i0, o0 + (bh * s.T + i0) * s.Dv, l0 + bh * s.T + i0);
    }
  });
}

// Per key block of one backward task: the tile buffers and its dK, dV accumulators.
template <class A>
struct BackwardScratch {
  Buf<A> st, dpt, dka, dva, lse, delta;
  BackwardScratch(const Dims& s, int64_t Dp, int64_t Dvp)
      : st(buffer<A>(kBk * s.qw)),
        dpt(buffer<A>(kBk * s.qw)),
        dka(buffer<A>(kBk * Dp)),
        dva(buffer<A>(kBk * Dvp)),
        lse(buffer<A>(s.qw)),
        delta(buffer<A>(s.qw)) {}
};

template <class T>
void backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
              const Tensor& out, const Tensor& lse, const AttentionParams& p, const Tensor& dq,
              const Tensor& dk, const Tensor& dv) {
  using A = acc_t<T>;
  using V = simd::Vec<A>;
  constexpr int64_t L = simd::kLanes<A>;
  Dims s = dims_of<A>(q, k, v);
  const int64_t qw = s.qw, Dp = simd::round_up<A>(s.D), Dvp = simd::round_up<A>(s.Dv);
  const int64_t nrows = s.B * s.Hq * s.T, nblk = s.B * s.Hq * s.nqb;
  Masker<T, A> mask(p, s.S);
  A scale = A(p.scale);
  // Q^T (scaled) and dout^T per query block: the B operands of scores^T and dP^T.
  Buf<A> qt = buffer<A>(nblk * s.D * qw), dot = buffer<A>(nblk * s.Dv * qw);
  Rows<T> qsrc = rows_of<T>(q), dsrc = rows_of<T>(dout);
  parallel_for(nblk, 1, [&](int64_t b0, int64_t e0) {
    for (int64_t w = b0; w < e0; ++w) {
      int64_t bh = w / s.nqb, i0 = w % s.nqb * qw, m = std::min(qw, s.T - i0);
      int64_t b = bh / s.Hq, h = bh % s.Hq;
      pack_block_t(qsrc, b, h, i0, m, s.D, qw, scale, qt.get() + w * s.D * qw);
      pack_block_t(dsrc, b, h, i0, m, s.Dv, qw, A(1), dot.get() + w * s.Dv * qw);
    }
  });
  Buf<A> kstore, vstore, qstore, dstore;
  Rows<A> kr = rows_as<T, A>(k, true, kstore);     // A of scores^T, B of dQ
  Rows<A> vr = rows_as<T, A>(v, false, vstore);    // A of dP^T
  Rows<A> qr = rows_as<T, A>(q, true, qstore);     // B of dK
  Rows<A> dr = rows_as<T, A>(dout, true, dstore);  // B of dV
  // delta_i = dout_i . out_i, the softmax backward's row term.
  Buf<A> delta = buffer<A>(nrows);
  const T* out0 = out.data<T>();
  parallel_for(nrows, 256, [&](int64_t b0, int64_t e0) {
    for (int64_t i = b0; i < e0; ++i) {
      const A* g = dr.row(i / (s.Hq * s.T), i / s.T % s.Hq, i % s.T);
      A acc = 0;
      for (int64_t d = 0; d < s.Dv; ++d) acc += g[d] * A(out0[i * s.Dv + d]);
      delta[i] = acc;
    }
  });
  const A* lse0 = lse.data<A>();
  // Enough tasks to keep every thread busy; each segment past the first costs a dQ buffer.
  const int64_t nkb = (s.S + kBk - 1) / kBk, per_seg = std::max<int64_t>(1, s.B * s.Hkv);
  const int64_t nseg = std::clamp<int64_t>((4 * num_threads() + per_seg - 1) / per_seg, 1,
                                           std::clamp<int64_t>(nkb, 1, 8));
  Buf<A> dqacc = buffer<A>(nseg * nrows * Dp);
  std::fill_n(dqacc.get(), nseg * nrows * Dp, A(0));
  T* dk0 = dk.data<T>();
  T* dv0 = dv.data<T>();
  parallel_for(s.B * s.Hkv * nseg, 1, [&](int64_t b0, int64_t e0) {
    BackwardScratch<A> w(s, Dp, Dvp);
    for (int64_t unit = b0; unit < e0; ++unit) {
      int64_t seg = unit % nseg, bk = unit / nseg, b = bk / s.Hkv, hk = bk % s.Hkv;
      A* dqs = dqacc.get() + seg * nrows * Dp;
      for (int64_t kb = nkb * seg / nseg; kb < nkb * (seg + 1) / nseg; ++kb) {
        int64_t j0 = kb * kBk, nk = std::min(kBk, s.S - j0);
        std::fill_n(w.dka.get(), nk * Dp, A(0));
        std::fill_n(w.dva.get(), nk * Dvp, A(0));
        int64_t ibeg, iend;
        mask.query_range(s.T, j0, j0 + nk, ibeg, iend);
        for (int64_t h = hk * s.G; h < (hk + 1) * s.G; ++h) {
          int64_t bh = b * s.Hq + h;
          for (int64_t qb = ibeg / qw; ibeg < iend && qb * qw < iend; ++qb) {
            int64_t i0 = qb * qw, m = std::min(qw, s.T - i0);
            tile_gemm<A>(nk, qw, s.D, {kr.row(b, hk, j0), kr.s2, 1},
                         qt.get() + (bh * s.nqb + qb) * s.D * qw, qw, w.st.get(), qw, false);
            mask.apply(w.st.get(), qw, nk, b, h, i0, m, j0);
            tile_gemm<A>(nk, qw, s.Dv, {vr.row(b, hk, j0), vr.s2, 1},
                         dot.get() + (bh * s.nqb + qb) * s.Dv * qw, qw, w.dpt.get(), qw, false);
            for (int64_t c = 0; c < qw; ++c) {  // padding columns: no probability, no gradient
              w.lse[c] = c < m ? lse0[bh * s.T + i0 + c] : kInf<A>;
              w.delta[c] = c < m ? delta[bh * s.T + i0 + c] : A(0);
            }
            // P^T = exp(scores^T - lse), dS^T = P^T (dP^T - delta), column by column of lanes.
            for (int64_t j = 0; j < nk; ++j)
              for (int64_t c = 0; c < qw; c += L) {
                V pr = simd::exp(simd::load(&w.st[j * qw + c]) - simd::load(&w.lse[c]));
                V ds = pr * (simd::load(&w.dpt[j * qw + c]) - simd::load(&w.delta[c]));
                simd::store(&w.st[j * qw + c], pr);
                simd::store(&w.dpt[j * qw + c], ds);
              }
            tile_gemm<A>(nk, Dvp, m, {w.st.get(), qw, 1}, dr.row(b, h, i0), dr.s2, w.dva.get(), Dvp,
                         true);
            tile_gemm<A>(nk, Dp, m, {w.dpt.get(), qw, 1}, qr.row(b, h, i0), qr.s2, w.dka.get(), Dp,
                         true);
            tile_gemm<A>(m, Dp, nk, {w.dpt.get(), 1, qw}, kr.row(b, hk, j0), kr.s2,
                         dqs + (bh * s.T + i0) * Dp, Dp, true);
          }
        }
        for (int64_t j = 0; j < nk; ++j) {
          T* dkr = dk0 + (bk * s.S + j0 + j) * s.D;
          T* dvr = dv0 + (bk * s.S + j0 + j) * s.Dv;
          for (int64_t d = 0; d < s.D; ++d) dkr[d] = T(w.dka[j * Dp + d] * scale);
          for (int64_t d = 0; d < s.Dv; ++d) dvr[d] = T(w.dva[j * Dvp + d]);
        }
      }
    }
  });
  T* dq0 = dq.data<T>();
  parallel_for(nrows, 64, [&](int64_t b0, int64_t e0) {
    for (int64_t i = b0; i < e0; ++i)
      for (int64_t d = 0; d < s.D; ++d) {
        A acc = 0;
        for (int64_t g = 0; g < nseg; ++g) acc += dqacc[(g * nrows + i) * Dp + d];
        dq0[i * s.D + d] = T(acc * scale);
      }
  });
}

}  // namespace

void attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionParams& p,
               const Tensor& out, const Tensor& lse) {
  visit_float(q.dtype(), "attention", [&](auto t) { forward<decltype(t)>(q, k, v, p, out, lse); });
}

void attention_backward(const Tensor& dout, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& out, const Tensor& lse, const AttentionParams& p,
                        const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  visit_float(q.dtype(), "attention backward",
              [&](auto t) { backward<decltype(t)>(dout, q, k, v, out, lse, p, dq, dk, dv); });
}

}  // namespace kiln::ops::cpu
