#include "kiln/infer/last_logits.h"

namespace kiln::infer {

std::vector<float> last_logits(models::Decoder& model, std::span<const int32_t> ids,
                               nn::KvCache* cache) {
  std::vector<int64_t> x(ids.begin(), ids.end());
  int64_t n = int64_t(x.size());
  Tensor logits = model.forward(Tensor::from_vector(x, {1, n}), Tensor(), cache, true).logits;
  return logits.select(1, 0).select(0, 0).to_vector<float>();
}

}  // namespace kiln::infer
