// Differentiable matrix products. Gradients reuse the forward GEMM with transposed views, so no
// transposed copy is made: dA = dY B^T, dB = A^T dY (batch dims summed where broadcast).
#include "kiln/autograd/functions.h"
#include "kiln/ops/binary.h"
#include "kiln/ops/matmul.h"
#include "kiln/ops/reduce.h"

namespace kiln {

using autograd::needs_grad;
using autograd::record;
using G = std::vector<Tensor>;

Tensor matmul(const Tensor& a, const Tensor& b) {
  Tensor y = ops::matmul(a, b);
  if (!needs_grad({a, b})) return y;
  bool ga = a.requires_grad(), gb = b.requires_grad();
  return record("matmul", {a, b}, y, [a = a.detach(), b = b.detach(), ga, gb](const G& g) {
    // Promote vectors to matrices so one rule covers every case.
    Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
    Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
    Tensor g2 = g[0];
    if (a.dim() == 1) g2 = g2.unsqueeze(-2);
    if (b.dim() == 1) g2 = g2.unsqueeze(-1);
    Tensor da, db;
    if (ga) da = ops::sum_to(ops::matmul(g2, b2.transpose(-1, -2)), a2.sizes()).reshape(a.sizes());
    if (gb) db = ops::sum_to(ops::matmul(a2.transpose(-1, -2), g2), b2.sizes()).reshape(b.sizes());
    return G{da, db};
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  Tensor y = ops::linear(x, w, bias);
  if (!needs_grad({x, w, bias})) return y;
  bool gx = x.requires_grad(), gw = w.requires_grad(),
       gbias = bias.defined() && bias.requires_grad();
  return record("linear", {x, w, bias}, y,
                [x = x.detach(), w = w.detach(), gx, gw, gbias](const G& g) {
                  Tensor g2 = g[0].reshape({-1, w.size(0)});
                  Tensor dx, dw, db;
                  if (gx) dx = ops::matmul(g2, w).reshape(x.sizes());
                  if (gw) dw = ops::matmul(g2.transpose(0, 1), x.reshape({-1, x.size(-1)}));
                  if (gbias) db = ops::sum(g2, {0});
                  return G{dx, dw, db};
                });
}

}  // namespace kiln
