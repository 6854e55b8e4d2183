// Differentiable embedding lookup: backward scatter-adds into the rows that were read.
#include "kiln/ops/embedding.h"
#include "kiln/autograd/functions.h"

namespace kiln {

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  Tensor y = ops::embedding(weight, ids);
  if (!autograd::needs_grad({weight})) return y;
  int64_t vocab = weight.size(0);
  return autograd::record("embedding", {weight}, y,
                          [ids = ids.detach(), vocab](const std::vector<Tensor>& g) {
                            return std::vector<Tensor>{ops::embedding_backward(g[0], ids, vocab)};
                          });
}

}  // namespace kiln
