#pragma once
// What the engine does to advance a sequence once its prompt is in: by default one forward of
// the last token and one sample. A DecodeStep replaces that with something that may choose
// several tokens per step; speculative decoding (speculative.h) is the one kiln has.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kiln/infer/paged_kv_cache.h"
#include "kiln/infer/sampler.h"

namespace kiln::infer {

class DecodeStep {
 public:
  virtual ~DecodeStep() = default;

  // Sequence `seq` of the current generate() call begins: its prompt is in the engine's cache
  // and its first token not yet chosen.
  virtual void start(size_t seq, std::span<const int32_t> prompt, const SamplingParams& sp) = 0;

  // One step of sequence `seq`. `tokens` are its prompt and generated tokens, all but the last
  // held by `cache`. Returns one to `max_new` tokens, in order, chosen with `sampler` (which has
  // recorded them); leaves `cache` holding `tokens` and all returned tokens but the last. The
  // engine emits them in order until one ends the sequence.
  virtual std::vector<Sample> step(size_t seq, std::span<const int32_t> tokens, PagedKvCache& cache,
                                   Sampler& sampler, int64_t max_new) = 0;

  // Sequence `seq` has ended: whatever the step holds for it can go.
  virtual void finish(size_t seq) = 0;
};

}  // namespace kiln::infer
