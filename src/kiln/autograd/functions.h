#pragma once
// The differentiable API: every function here computes with kiln::ops and, when grad mode is on and
// an input requires grad, records its backward on the tape. Models are written with these.
// Shape errors throw kiln::Error naming the op and the shapes.
#include <vector>

#include "kiln/autograd/grad_mode.h"
#include "kiln/autograd/node.h"
#include "kiln/core/rng.h"
#include "kiln/core/tensor.h"

namespace kiln {

// ---- views (views.cpp)
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start = 0, int64_t end = -1);
Tensor contiguous(const Tensor& x);
Tensor to_dtype(const Tensor& x, DType dt);  // gradient converted back to x's dtype

// ---- elementwise with broadcasting (elementwise.cpp)
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& x, double s);
Tensor mul_scalar(const Tensor& x, double s);
Tensor pow_scalar(const Tensor& x, double p);
inline Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
inline Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
inline Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
inline Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
inline Tensor operator+(const Tensor& a, double s) {
  return add_scalar(a, s);
}
inline Tensor operator-(const Tensor& a, double s) {
  return add_scalar(a, -s);
}
inline Tensor operator*(const Tensor& a, double s) {
  return mul_scalar(a, s);
}
inline Tensor operator/(const Tensor& a, double s) {
  return mul_scalar(a, 1.0 / s);
}

// ---- unary (unary.cpp)
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor silu(const Tensor& x);
Tensor gelu(const Tensor& x);       // erf form
Tensor gelu_tanh(const Tensor& x);  // tanh approximation
// cond is u8 (nonzero = take a); broadcasting applies to all three.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
// Inverted dropout: zeroes with probability p and scales the rest by 1/(1-p); identity if
// !training.
Tensor dropout(const Tensor& x, double p, bool training, Generator& g = default_generator());

// ---- reductions (reduce.cpp)
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);  // gradient to the first argmax
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// ---- linear algebra (linalg.cpp)
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

// ---- shapes (shape.cpp)
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);

// ---- embedding lookup (embedding.cpp); ids i32/i64 of any shape, each in [0, V)
Tensor embedding(const Tensor& weight, const Tensor& ids);

// ---- model ops with fused backward (nn_ops.cpp)
// Norms over the last dim; an undefined weight (or bias) means none.
Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps);
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
Tensor swiglu(const Tensor& gate, const Tensor& up);  // silu(gate) * up
// x [B, H, T, D]; cos, sin [B or 1, T, R/2] with R = rotary dims (R <= D, even). Rotates the
// first R dims of each head in the rotate-half layout (Hugging Face Llama/Qwen convention).
Tensor rope(const Tensor& x, const Tensor& cos, const Tensor& sin);

struct AttentionOptions {
  bool causal = true;
  double scale = 0;       // 0 means 1/sqrt(D)
  int64_t window = 0;     // > 0: a query sees only the last `window` keys (itself included)
  Tensor bias;            // optional additive bias broadcastable to [B, Hq, T, S] (e.g. ALiBi)
  Tensor key_padding;     // optional u8 [B, S], nonzero = padding (masked out)
  int64_t q_offset = -1;  // absolute position of query 0; -1 means S - T (queries are the last T)
};
// q [B, Hq, T, D], k [B, Hkv, S, D], v [B, Hkv, S, Dv], Hq a multiple of Hkv -> [B, Hq, T, Dv].
// A query that every key is masked from outputs zeros. bias and key_padding get no gradient.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v,
                 const AttentionOptions& opt = {});

struct CrossEntropyOptions {
  int64_t ignore_index = -100;
  double label_smoothing = 0;
  double z_loss = 0;       // adds z_loss * mean(logsumexp^2)
  double focal_gamma = 0;  // > 0: focal loss -(1 - p_t)^gamma log p_t (no label smoothing)
};
// logits [N, V], targets [N] (i32/i64) -> scalar mean loss over non-ignored targets. With every
// target ignored the loss is 0 and so is its gradient (torch gives NaN).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets,
                     const CrossEntropyOptions& opt = {});

// Runs backward from a scalar (or with an explicit gradient).
inline void backward(const Tensor& root, const Tensor& grad = Tensor()) {
  autograd::backward(root, grad);
}

}  // namespace kiln
