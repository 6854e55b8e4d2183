// Elementwise ops on the GPU: binary (broadcast operands arrive expanded, strides may be 0), unary
// and its backward, comparisons and where. One thread per output element through a strided
// indexer; bf16/f16 compute in f32 and round once, f64 in f64, as on the CPU.
#include "kiln/core/cuda/common.cuh"
#include "kiln/ops/binary.h"
#include "kiln/ops/kernel.h"
#include "kiln/ops/unary.h"
#include "kiln/ops/where.h"

namespace kiln::cuda {
namespace {

using ops::BinaryOp;
using ops::CompareOp;
using ops::UnaryOp;

template <class A>
__device__ A apply_binary(BinaryOp op, A x, A y) {
  switch (op) {
    case BinaryOp::Add:
      return x + y;
    case BinaryOp::Sub:
      return x - y;
    case BinaryOp::Mul:
      return x * y;
    case BinaryOp::Div:
      return x / y;
    case BinaryOp::Maximum:
      return x > y || x != x ? x : y;  // a NaN in x wins, as on the CPU
    case BinaryOp::Minimum:
      return x < y || x != x ? x : y;
    case BinaryOp::Pow:
      return pow(x, y);
  }
  return A(0);
}

template <class T>
__global__ void binary_k(BinaryOp op, const T* a, const T* b, T* o, Indexer<3> ix, int64_t n) {
  using A = acc_t<T>;
  KILN_CUDA_FOR(i, n) {
    int64_t off[3];
    ix.offsets(i, off);
    store(o + off[0], apply_binary(op, load<A>(a + off[1]), load<A>(b + off[2])));
  }
}

// Operands of one shape, all contiguous: 16 bytes of each per thread.
template <class T>
__global__ void binary_vec_k(BinaryOp op, const uint4* a, const uint4* b, uint4* o, int64_t n) {
  using A = acc_t<T>;
  constexpr int kV = 16 / sizeof(T);
  KILN_CUDA_FOR(i, n) {
    uint4 va = a[i], vb = b[i], vo;
    const T* pa = reinterpret_cast<const T*>(&va);
    const T* pb = reinterpret_cast<const T*>(&vb);
    T* po = reinterpret_cast<T*>(&vo);
#pragma unroll
    for (int k = 0; k < kV; ++k) store(po + k, apply_binary(op, load<A>(pa + k), load<A>(pb + k)));
    o[i] = vo;
  }
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const Tensor* ts[3] = {&out, &a, &b};
  auto ix = make_indexer<3>(out.sizes(), ts);
  int64_t n = out.numel();
  if (n == 0) return;
  visit_float(out.dtype(), ops::binary_op_name(op), [&](auto v) {
    using T = decltype(v);
    if (ix.rank == 1 && vectorize(ix, ts, sizeof(T))) {
      int64_t nv = n / int64_t(16 / sizeof(T));
      binary_vec_k<dev_t<T>><<<grid_for(nv), kBlock, 0, stream()>>>(
          op, static_cast<const uint4*>(a.raw_data()), static_cast<const uint4*>(b.raw_data()),
          static_cast<uint4*>(out.raw_data()), nv);
      KILN_CUDA_LAUNCHED();
      return;
    }
    binary_k<<<grid_for(n), kBlock, 0, stream()>>>(op, ptr<T>(a), ptr<T>(b), ptr<T>(out), ix, n);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::binary_kernel, binary);

template <class A>
__device__ A sigm(A x) {
  return A(1) / (A(1) + exp(-x));
}

template <class A>
__device__ A unary_fwd(UnaryOp op, A x, A p) {
  const A kSqrt2OverPi = A(0.7978845608028654), kInvSqrt2 = A(0.7071067811865476);
  switch (op) {
    case UnaryOp::Neg:
      return -x;
    case UnaryOp::Exp:
      return exp(x);
    case UnaryOp::Log:
      return log(x);
    case UnaryOp::Sqrt:
      return sqrt(x);
    case UnaryOp::Rsqrt:
      return A(1) / sqrt(x);
    case UnaryOp::Tanh:
      return tanh(x);
    case UnaryOp::Sigmoid:
      return sigm(x);
    case UnaryOp::Relu:
      return x > A(0) ? x : A(0);
    case UnaryOp::Silu:
      return x * sigm(x);
    case UnaryOp::Gelu:
      return A(0.5) * x * (A(1) + erf(x * kInvSqrt2));
    case UnaryOp::GeluTanh:
      return A(0.5) * x * (A(1) + tanh(kSqrt2OverPi * (x + A(0.044715) * x * x * x)));
    case UnaryOp::Abs:
      return fabs(x);
    case UnaryOp::Scale:
      return x * p;
    case UnaryOp::Shift:
      return x + p;
    case UnaryOp::PowScalar:
      return pow(x, p);
  }
  return A(0);
}

// d f / d x given x and y = f(x)
template <class A>
__device__ A unary_deriv(UnaryOp op, A x, A y, A p) {
  const A kSqrt2OverPi = A(0.7978845608028654), kInvSqrt2 = A(0.7071067811865476);
  const A kInvSqrt2Pi = A(0.3989422804014327);
  switch (op) {
    case UnaryOp::Neg:
      return A(-1);
    case UnaryOp::Exp:
      return y;
    case UnaryOp::Log:
      return A(1) / x;
    case UnaryOp::Sqrt:
      return A(0.5) / y;
    case UnaryOp::Rsqrt:
      return A(-0.5) * y * y * y;
    case UnaryOp::Tanh:
      return A(1) - y * y;
    case UnaryOp::Sigmoid:
      return y * (A(1) - y);
    case UnaryOp::Relu:
      return x > A(0) ? A(1) : A(0);
    case UnaryOp::Silu: {
      A s = sigm(x);
      return s * (A(1) + x * (A(1) - s));
    }
    case UnaryOp::Gelu:
      return A(0.5) * (A(1) + erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * exp(A(-0.5) * x * x);
    case UnaryOp::GeluTanh: {
      A u = kSqrt2OverPi * (x + A(0.044715) * x * x * x);
      A t = tanh(u);
      A du = kSqrt2OverPi * (A(1) + A(3) * A(0.044715) * x * x);
      return A(0.5) * (A(1) + t) + A(0.5) * x * (A(1) - t * t) * du;
    }
    case UnaryOp::Abs:
      return x > A(0) ? A(1) : (x < A(0) ? A(-1) : A(0));
    case UnaryOp::Scale:
      return p;
    case UnaryOp::Shift:
      return A(1);
    case UnaryOp::PowScalar:
      return p * pow(x, p - A(1));
  }
  return A(0);
}

template <class T>
__global__ void unary_k(UnaryOp op, double p, const T* x, T* o, Indexer<2> ix, int64_t n) {
  using A = acc_t<T>;
  KILN_CUDA_FOR(i, n) {
    int64_t off[2];
    ix.offsets(i, off);
    store(o + off[0], unary_fwd<A>(op, load<A>(x + off[1]), A(p)));
  }
}

void unary(UnaryOp op, double p, const Tensor& x, const Tensor& out) {
  const Tensor* ts[2] = {&out, &x};
  auto ix = make_indexer<2>(out.sizes(), ts);
  int64_t n = out.numel();
  if (n == 0) return;
  visit_float(x.dtype(), ops::unary_op_name(op), [&](auto v) {
    using T = decltype(v);
    unary_k<<<grid_for(n), kBlock, 0, stream()>>>(op, p, ptr<T>(x), ptr<T>(out), ix, n);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::unary_kernel, unary);

// y may be undefined (ops that need only x); then x stands in for it and is never read as y.
template <class T>
__global__ void unary_bwd_k(UnaryOp op, double p, const T* x, const T* y, const T* dy, T* dx,
                            Indexer<4> ix, int64_t n) {
  using A = acc_t<T>;
  KILN_CUDA_FOR(i, n) {
    int64_t off[4];
    ix.offsets(i, off);
    A d = unary_deriv<A>(op, load<A>(x + off[1]), load<A>(y + off[2]), A(p));
    store(dx + off[0], load<A>(dy + off[3]) * d);
  }
}

void unary_backward(UnaryOp op, double p, const Tensor& x, const Tensor& y, const Tensor& dy,
                    const Tensor& dx) {
  const Tensor& yy = y.defined() ? y : x;
  const Tensor* ts[4] = {&dx, &x, &yy, &dy};
  auto ix = make_indexer<4>(dx.sizes(), ts);
  int64_t n = dx.numel();
  if (n == 0) return;
  visit_float(x.dtype(), ops::unary_op_name(op), [&](auto v) {
    using T = decltype(v);
    unary_bwd_k<<<grid_for(n), kBlock, 0, stream()>>>(op, p, ptr<T>(x), ptr<T>(yy), ptr<T>(dy),
                                                      ptr<T>(dx), ix, n);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::unary_backward_kernel, unary_backward);

template <class T>
__global__ void compare_k(CompareOp op, const T* a, const T* b, uint8_t* o, Indexer<3> ix,
                          int64_t n) {
  using A = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
  KILN_CUDA_FOR(i, n) {
    int64_t off[3];
    ix.offsets(i, off);
    A p = load<A>(a + off[1]), q = load<A>(b + off[2]);
    bool c = false;
    switch (op) {
      case CompareOp::Eq:
        c = p == q;
        break;
      case CompareOp::Ne:
        c = p != q;
        break;
      case CompareOp::Lt:
        c = p < q;
        break;
      case CompareOp::Le:
        c = p <= q;
        break;
      case CompareOp::Gt:
        c = p > q;
        break;
      case CompareOp::Ge:
        c = p >= q;
        break;
    }
    o[off[0]] = c ? 1 : 0;
  }
}

void compare(CompareOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  const Tensor* ts[3] = {&out, &a, &b};
  auto ix = make_indexer<3>(out.sizes(), ts);
  int64_t n = out.numel();
  if (n == 0) return;
  visit_dtype(a.dtype(), [&](auto v) {
    using T = decltype(v);
    compare_k<<<grid_for(n), kBlock, 0, stream()>>>(op, ptr<T>(a), ptr<T>(b), ptr<uint8_t>(out), ix,
                                                    n);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::compare_kernel, compare);

template <class T>
__global__ void where_k(const uint8_t* c, const T* a, const T* b, T* o, Indexer<4> ix, int64_t n) {
  KILN_CUDA_FOR(i, n) {
    int64_t off[4];
    ix.offsets(i, off);
    o[off[0]] = c[off[1]] ? a[off[2]] : b[off[3]];
  }
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  const Tensor* ts[4] = {&out, &cond, &a, &b};
  auto ix = make_indexer<4>(out.sizes(), ts);
  int64_t n = out.numel();
  if (n == 0) return;
  visit_dtype(a.dtype(), [&](auto v) {
    using T = decltype(v);
    where_k<<<grid_for(n), kBlock, 0, stream()>>>(ptr<uint8_t>(cond), ptr<T>(a), ptr<T>(b),
                                                  ptr<T>(out), ix, n);
    KILN_CUDA_LAUNCHED();
  });
}
KILN_REGISTER_CUDA_KERNEL(ops::where_kernel, where);

}  // namespace
}  // namespace kiln::cuda
