#include "kiln/infer/perplexity.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kiln/autograd/functions.h"
#include "kiln/autograd/grad_mode.h"
#include "kiln/infer/eval_mode.h"

namespace kiln::infer {

PerplexityResult perplexity(models::Decoder& model, std::span<const int32_t> ids, int64_t context,
                            int64_t stride) {
  int64_t n = int64_t(ids.size()), v = model.config().vocab_size;
  KILN_REQUIRE(n >= 2, "perplexity: ", n, " tokens; expected at least 2");
  // Dynamic-NTK RoPE exists to run past max_position_embeddings (it rescales with the length).
  bool extrapolates = model.config().rope_scaling.rope_type == "dynamic";
  KILN_REQUIRE(context >= 2 && (extrapolates || context <= model.config().max_position_embeddings),
               "perplexity: context ", context, ", expected in [2, ",
               model.config().max_position_embeddings, "] (max_position_embeddings)");
  KILN_REQUIRE(stride >= 1 && stride <= context, "perplexity: stride ", stride,
               ", expected in [1, ", context, "] (the context)");
  for (int64_t i = 0; i < n; ++i)
    KILN_REQUIRE(ids[size_t(i)] >= 0 && ids[size_t(i)] < v, "perplexity: token id ", ids[size_t(i)],
                 " at index ", i, " is out of range [0, ", v, ")");
  NoGradGuard ng;
  EvalModeGuard eval_mode(model);
  PerplexityResult r;
  double total = 0;
  int64_t scored_to = 1;  // tokens before this are scored (token 0 has no prediction)
  for (int64_t begin = 0; scored_to < n; begin += stride) {
    int64_t end = std::min(begin + context, n);
    int64_t t = end - begin;
    std::vector<int64_t> w(ids.begin() + begin, ids.begin() + end);
    // In f32 whatever the model's dtype: the loss comes back in the logits' dtype.
    Tensor logits =
        model.forward(Tensor::from_vector(w, {1, t})).logits.reshape({t, v}).to(DType::F32);
    // Row j - 1 - begin predicts ids[j]; rows whose token an earlier window scored are ignored.
    std::vector<int64_t> targets(size_t(t), -100);
    int64_t first = std::max(scored_to, begin + 1);
    for (int64_t j = first; j < end; ++j) targets[size_t(j - 1 - begin)] = ids[size_t(j)];
    if (end > first) {
      // The fused cross-entropy gives the mean over the scored rows.
      total +=
          cross_entropy(logits, Tensor::from_vector(targets, {t})).item() * double(end - first);
      r.tokens += end - first;
    }
    scored_to = end;
    ++r.windows;
  }
  r.nll = total / double(r.tokens);
  r.ppl = std::exp(r.nll);
  return r;
}

}  // namespace kiln::infer
