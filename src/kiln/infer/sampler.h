#pragma once
// Picks the next token from a position's logits: the one way kiln samples.
//
// The order is Hugging Face's: penalties (repetition, then frequency / presence), then
// temperature, top-k, top-p and min-p, then a draw from what is left (or the argmax when the
// temperature is 0). The draw uses kiln's counter-based Philox generator, so a seed reproduces a
// generation exactly.
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "kiln/core/rng.h"

namespace kiln::infer {

struct SamplingParams {
  double temperature = 1.0;         // 0: greedy (argmax, first index on ties)
  int64_t top_k = 0;                // keep the k most likely (and ties with the k-th); 0: off
  double top_p = 1.0;               // keep the smallest most-likely set of mass >= top_p
  double min_p = 0.0;               // drop tokens below min_p * the most likely one's probability
  double repetition_penalty = 1.0;  // HF: a seen token's logit is divided (> 0) or multiplied
                                    // (< 0) by it; seen = prompt and generated tokens
  double frequency_penalty = 0.0;   // OpenAI: logit -= count in the generated tokens * this
  double presence_penalty = 0.0;    // OpenAI: logit -= this if generated at least once
  uint64_t seed = 0;
  int64_t logprobs = 0;  // how many most likely alternatives to report per token
  // Only ids below this are sampled (0: every id). Set to the tokenizer's vocabulary where a
  // model's embedding is padded past it (GGUF writers round the vocabulary up): an id the
  // tokenizer cannot decode is never generated.
  int64_t vocab_limit = 0;

  // Throws kiln::Error naming the parameter, its value and the range it must be in.
  void validate() const;
  bool greedy() const { return temperature == 0; }
};

struct TokenLogprob {
  int32_t id;
  float logprob;
};

// A chosen token. Log-probabilities are the model's own (log-softmax of the raw logits, before
// penalties and temperature): the numbers training and evaluation compute for the same text.
struct Sample {
  int32_t id = -1;
  float logprob = 0;
  std::vector<TokenLogprob> top;  // the `logprobs` most likely tokens, most likely first
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);

  // Starts a sequence: the prompt's tokens count for the repetition penalty only.
  void reset(std::span<const int32_t> prompt);
  // Picks from logits [V] and records the choice for the penalties.
  Sample next(std::span<const float> logits);
  // Records `id` as chosen at a position with these logits, as next() records its own choice,
  // and reports its log-probabilities: for a token chosen elsewhere (a draft model's proposal
  // that speculative decoding accepted).
  Sample accept(int32_t id, std::span<const float> logits);

  // The distribution next() draws from (0 for dropped tokens), for tests and inspection; with
  // temperature 0 it is one-hot on the argmax.
  std::vector<double> distribution(std::span<const float> logits);
  // The logits after the penalties.
  std::vector<float> penalized(std::span<const float> logits) const;

  const SamplingParams& params() const { return p_; }
  const Generator& generator() const { return gen_; }

 private:
  void apply_penalties(std::vector<float>& x) const;
  // Fills cand_ (ids, most likely first when an order is needed) and probs_ (normalized).
  void filter(const std::vector<float>& x);
  void record(int32_t id);

  SamplingParams p_;
  Generator gen_;
  std::unordered_map<int32_t, int64_t> generated_;  // id -> count in the generated tokens
  std::vector<bool> seen_;                          // prompt or generated, by id
  std::vector<float> work_;                         // reused per call: no allocation per token
  std::vector<int32_t> cand_;
  std::vector<double> probs_;
};

}  // namespace kiln::infer
