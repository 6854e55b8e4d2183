#pragma once
// Speculative decoding (Leviathan et al. 2023, Chen et al. 2023): a small draft model proposes
// K tokens one at a time, the target model scores all of them in one forward over K + 1
// positions, and the longest acceptable prefix is kept, plus one token of the target's own. A
// target forward then yields 1 to K + 1 tokens instead of one.
//
// Greedy (temperature 0): a proposal is kept while it is the target's argmax, and the first
// that is not is replaced by the argmax, so the output is the target's greedy output token for
// token. Sampled: proposal x drawn from the draft's distribution q is kept with probability
// min(1, p(x) / q(x)) under the target's p, and the first rejected one is replaced by a draw from
// max(0, p - q) normalized; each output token is then distributed exactly as the target alone
// would sample it (same penalties, temperature, top-k/p, min-p), though not the same draws.
//
// Rejected proposals leave both caches by PagedKvCache::truncate.
#include <memory>
#include <vector>

#include "kiln/core/rng.h"
#include "kiln/infer/generator.h"

namespace kiln::infer {

struct SpeculativeOptions {
  int64_t draft_tokens = 4;  // K: proposals per target forward
};

struct SpeculativeStats {
  int64_t steps = 0;     // decode steps: one target forward each
  int64_t proposed = 0;  // draft tokens proposed
  int64_t accepted = 0;  // of those, kept
  int64_t emitted = 0;   // tokens the steps returned (accepted + one per step)
  double draft_s = 0, verify_s = 0;
  double acceptance_rate() const { return proposed > 0 ? double(accepted) / double(proposed) : 0; }
  double tokens_per_step() const { return steps > 0 ? double(emitted) / double(steps) : 0; }
};

// Installs itself as `engine`'s decode step for its lifetime; engine.generate() then decodes
// speculatively. The draft must share the target's vocabulary (a kiln::Error otherwise).
class SpeculativeDecoder : public DecodeStep {
 public:
  SpeculativeDecoder(Engine& engine, models::Decoder& draft, const SpeculativeOptions& o = {});
  ~SpeculativeDecoder() override;
  SpeculativeDecoder(const SpeculativeDecoder&) = delete;
  SpeculativeDecoder& operator=(const SpeculativeDecoder&) = delete;

  void start(size_t seq, std::span<const int32_t> prompt, const SamplingParams& sp) override;
  std::vector<Sample> step(size_t seq, std::span<const int32_t> tokens, PagedKvCache& cache,
                           Sampler& sampler, int64_t max_new) override;
  void finish(size_t seq) override;

  const SpeculativeStats& stats() const { return stats_; }
  BlockPool& draft_pool() { return *pool_; }

 private:
  struct Draft;
  // Feeds tokens [draft cache length, end) to the draft; returns the last position's logits.
  std::vector<float> draft_forward(Draft& d, std::span<const int32_t> tokens, size_t end);
  std::vector<Sample> verify(std::span<const int32_t> tokens, PagedKvCache& cache, Sampler& sampler,
                             const std::vector<int32_t>& proposed,
                             const std::vector<std::vector<double>>& q, Generator& rng);

  Engine& engine_;
  models::Decoder& draft_;
  SpeculativeOptions o_;
  std::unique_ptr<BlockPool> pool_;
  std::vector<std::unique_ptr<Draft>> seqs_;
  SpeculativeStats stats_;
};

}  // namespace kiln::infer
