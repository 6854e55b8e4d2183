#include "kiln/train/sample.h"

#include <cmath>
#include <memory>

#include "kiln/autograd/grad_mode.h"
#include "kiln/nn/kv_cache.h"

namespace kiln::train {

std::vector<int32_t> sample_tokens(models::Decoder& m, const std::vector<int32_t>& prompt,
                                   int64_t n, double temperature, Generator& g,
                                   int64_t max_context) {
  KILN_REQUIRE(max_context >= 2, "sample: max_context must be at least 2, got ", max_context);
  KILN_REQUIRE(!prompt.empty(), "sample: the prompt has no tokens");
  NoGradGuard ng;
  bool was_training = m.training();
  m.eval();
  auto cache = std::make_unique<nn::DenseKvCache>(m.config().num_hidden_layers);
  const Device dev = m.parameters().front().device();  // token ids go where the model is
  std::vector<int64_t> ids(prompt.begin(), prompt.end());
  if (int64_t(ids.size()) > max_context) ids.erase(ids.begin(), ids.end() - max_context / 2);
  std::vector<int32_t> out;
  Tensor input = Tensor::from_vector(ids, {1, int64_t(ids.size())});
  for (int64_t i = 0; i < n; ++i) {
    if (cache->length() + input.size(1) > max_context) {  // slide: re-read the recent half
      cache = std::make_unique<nn::DenseKvCache>(m.config().num_hidden_layers);
      std::vector<int64_t> recent(ids.end() - max_context / 2, ids.end());
      input = Tensor::from_vector(recent, {1, int64_t(recent.size())});
    }
    Tensor logits = m.forward(input.to(dev), Tensor(), cache.get()).logits;
    std::vector<float> last = logits.select(1, logits.size(1) - 1).to_vector<float>();
    int32_t next = 0;
    if (temperature <= 0) {
      next = int32_t(std::max_element(last.begin(), last.end()) - last.begin());
    } else {
      float mx = *std::max_element(last.begin(), last.end());
      double total = 0;
      for (float& v : last) total += (v = std::exp((v - mx) / float(temperature)));
      double r = g.next_uniform() * total, acc = 0;
      for (size_t k = 0; k < last.size(); ++k)
        if ((acc += last[k]) >= r) {
          next = int32_t(k);
          break;
        }
    }
    out.push_back(next);
    ids.push_back(next);
    input = Tensor::from_vector<int64_t>({next}, {1, 1});
  }
  m.train(was_training);
  return out;
}

}  // namespace kiln::train
