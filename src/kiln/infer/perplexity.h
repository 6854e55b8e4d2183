#pragma once
// Sliding-window perplexity, as Hugging Face's perplexity guide computes it: windows of `context`
// tokens advanced by `stride`; each window scores only the tokens the previous one did not, with
// the rest of the window as their context. stride == context gives disjoint windows; a smaller
// stride gives every scored token more context at more compute.
#include <cstdint>
#include <span>

#include "kiln/models/decoder.h"

namespace kiln::infer {

struct PerplexityResult {
  double nll = 0;       // mean negative log-likelihood per scored token (nats)
  double ppl = 0;       // exp(nll)
  int64_t tokens = 0;   // tokens scored: all but the first
  int64_t windows = 0;  // forwards run
};

PerplexityResult perplexity(models::Decoder& model, std::span<const int32_t> ids, int64_t context,
                            int64_t stride);

}  // namespace kiln::infer
