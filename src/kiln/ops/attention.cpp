#include "kiln/ops/attention.h"

#include <cmath>

#include "kiln/ops/check.h"

namespace kiln::ops {

Kernel<AttentionFn> attention_kernel{"attention", &cpu::attention};
Kernel<AttentionBackwardFn> attention_backward_kernel{"attention_backward",
                                                      &cpu::attention_backward};

namespace {

// Unit stride in the last dim is all the kernels need; other strides are read as they are.
Tensor last_dim_unit(const Tensor& t) {
  return t.size(-1) <= 1 || t.stride(-1) == 1 ? t : t.contiguous();
}

struct Dims {
  int64_t B, Hq, Hkv, T, S, D, Dv;
};

Dims check_qkv(const Tensor& q, const Tensor& k, const Tensor& v) {
  const char* op = "attention";
  check_defined(op, q, "q");
  check_defined(op, k, "k");
  check_defined(op, v, "v");
  check_dim(op, q, 4, "q");
  check_dim(op, k, 4, "k");
  check_dim(op, v, 4, "v");
  check_float(op, q);
  check_same_dtype(op, q, k);
  check_same_dtype(op, q, v);
  check_same_device(op, q, k);
  check_same_device(op, q, v);
  Dims d{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3), v.size(3)};
  auto shapes = [&] {
    return str("q ", shape_str(q.sizes()), ", k ", shape_str(k.sizes()), ", v ",
               shape_str(v.sizes()));
  };
  KILN_REQUIRE(
      k.size(0) == d.B && v.size(0) == d.B, op,
      ": batch sizes differ (q [B, Hq, T, D], k [B, Hkv, S, D], v [B, Hkv, S, Dv]): ", shapes());
  KILN_REQUIRE(v.size(1) == d.Hkv && v.size(2) == d.S, op,
               ": k and v differ in heads or length: ", shapes());
  KILN_REQUIRE(k.size(3) == d.D, op, ": q and k differ in head dim: ", shapes());
  KILN_REQUIRE(d.D > 0, op, ": head dim is 0: ", shapes());
  KILN_REQUIRE(d.Hkv > 0 && d.Hq % d.Hkv == 0, op, ": query heads (", d.Hq,
               ") must be a multiple of kv heads (", d.Hkv, "): ", shapes());
  return d;
}

// Whether s broadcasts to full (NumPy rules, without growing full).
bool broadcasts_to(const Shape& s, const Shape& full) {
  if (s.size() > full.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    int64_t a = s[s.size() - 1 - i], b = full[full.size() - 1 - i];
    if (a != b && a != 1) return false;
  }
  return true;
}

AttentionParams resolve(const AttentionParams& p, const Tensor& q, const Dims& d) {
  const char* op = "attention";
  AttentionParams r = p;
  KILN_REQUIRE(std::isfinite(p.scale) && p.scale >= 0, op,
               ": scale must be finite and >= 0 (0 = 1/sqrt(D)), got ", p.scale);
  if (r.scale == 0) r.scale = 1.0 / std::sqrt(double(d.D));
  KILN_REQUIRE(p.window >= 0, op, ": window must be >= 0 (0 = none), got ", p.window);
  KILN_REQUIRE(p.q_offset >= -1, op, ": q_offset must be >= 0 (or -1 for S - T), got ", p.q_offset);
  if (r.q_offset == -1) {
    KILN_REQUIRE(d.T <= d.S || (!p.causal && p.window == 0), op, ": ", d.T, " queries but only ",
                 d.S, " keys: the default q_offset (S - T) would be negative; pass q_offset");
    r.q_offset = std::max<int64_t>(0, d.S - d.T);
  }
  Shape full{d.B, d.Hq, d.T, d.S};
  if (p.bias.defined()) {
    KILN_REQUIRE(broadcasts_to(p.bias.sizes(), full), op, ": bias ", shape_str(p.bias.sizes()),
                 " does not broadcast to [B, Hq, T, S] = ", shape_str(full));
    check_same_dtype(op, q, p.bias);
    check_same_device(op, q, p.bias);
    r.bias = p.bias.expand(full);
  }
  if (p.key_padding.defined()) {
    const Tensor& kp = p.key_padding;
    KILN_REQUIRE(kp.dtype() == DType::U8, op, ": key_padding must be u8, got ",
                 dtype_name(kp.dtype()));
    KILN_REQUIRE(kp.sizes() == (Shape{d.B, d.S}), op, ": key_padding must be [B, S] = [", d.B, ", ",
                 d.S, "], got ", shape_str(kp.sizes()));
    check_same_device(op, q, kp);
    r.key_padding = kp.contiguous();
  }
  return r;
}

DType stat_dtype(const Tensor& q) {
  return q.dtype() == DType::F64 ? DType::F64 : DType::F32;
}

}  // namespace

AttentionOut attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in,
                       const AttentionParams& p) {
  Dims d = check_qkv(q_in, k_in, v_in);
  AttentionParams r = resolve(p, q_in, d);
  Tensor q = last_dim_unit(q_in), k = last_dim_unit(k_in), v = last_dim_unit(v_in);
  AttentionOut o{Tensor::empty({d.B, d.Hq, d.T, d.Dv}, q.dtype(), q.device()),
                 Tensor::empty({d.B, d.Hq, d.T}, stat_dtype(q), q.device())};
  if (o.out.numel() > 0 || o.lse.numel() > 0)
    attention_kernel.get(q.device())(q, k, v, r, o.out, o.lse);
  return o;
}

AttentionGrads attention_backward(const Tensor& dout_in, const Tensor& q_in, const Tensor& k_in,
                                  const Tensor& v_in, const AttentionOut& fwd,
                                  const AttentionParams& p) {
  Dims d = check_qkv(q_in, k_in, v_in);
  AttentionParams r = resolve(p, q_in, d);
  check_defined("attention backward", dout_in, "dout");
  check_same_dtype("attention backward", dout_in, q_in);
  KILN_REQUIRE(dout_in.sizes() == fwd.out.sizes() && fwd.lse.sizes() == (Shape{d.B, d.Hq, d.T}),
               "attention backward: dout ", shape_str(dout_in.sizes()), " and lse ",
               shape_str(fwd.lse.sizes()), " do not match the output ", shape_str(fwd.out.sizes()));
  Tensor q = last_dim_unit(q_in), k = last_dim_unit(k_in), v = last_dim_unit(v_in);
  AttentionGrads g{Tensor::empty(q.sizes(), q.dtype(), q.device()),
                   Tensor::empty(k.sizes(), k.dtype(), k.device()),
                   Tensor::empty(v.sizes(), v.dtype(), v.device())};
  attention_backward_kernel.get(q.device())(last_dim_unit(dout_in), q, k, v, fwd.out.contiguous(),
                                            fwd.lse.contiguous(), r, g.dq, g.dk, g.dv);
  return g;
}

}  // namespace kiln::ops
