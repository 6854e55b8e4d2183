#include "kiln/infer/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "kiln/core/error.h"

namespace kiln::infer {

void SamplingParams::validate() const {
  KILN_REQUIRE(std::isfinite(temperature) && temperature >= 0, "temperature: found ", temperature,
               ", expected >= 0 (0 is greedy)");
  KILN_REQUIRE(top_k >= 0, "top_k: found ", top_k, ", expected >= 0 (0 is off)");
  KILN_REQUIRE(top_p > 0 && top_p <= 1, "top_p: found ", top_p, ", expected in (0, 1]");
  KILN_REQUIRE(min_p >= 0 && min_p <= 1, "min_p: found ", min_p, ", expected in [0, 1]");
  KILN_REQUIRE(std::isfinite(repetition_penalty) && repetition_penalty > 0,
               "repetition_penalty: found ", repetition_penalty, ", expected > 0 (1 is off)");
  KILN_REQUIRE(std::isfinite(frequency_penalty) && std::abs(frequency_penalty) <= 2,
               "frequency_penalty: found ", frequency_penalty, ", expected in [-2, 2]");
  KILN_REQUIRE(std::isfinite(presence_penalty) && std::abs(presence_penalty) <= 2,
               "presence_penalty: found ", presence_penalty, ", expected in [-2, 2]");
  KILN_REQUIRE(logprobs >= 0 && logprobs <= 100, "logprobs: found ", logprobs,
               ", expected in [0, 100]");
}

Sampler::Sampler(const SamplingParams& p) : p_(p), gen_(p.seed) {
  p_.validate();
}

void Sampler::reset(std::span<const int32_t> prompt) {
  generated_.clear();
  std::fill(seen_.begin(), seen_.end(), false);
  for (int32_t id : prompt) {
    if (id < 0) continue;
    if (size_t(id) >= seen_.size()) seen_.resize(size_t(id) + 1, false);
    seen_[size_t(id)] = true;
  }
}

void Sampler::record(int32_t id) {
  if (size_t(id) >= seen_.size()) seen_.resize(size_t(id) + 1, false);
  seen_[size_t(id)] = true;
  ++generated_[id];
}

void Sampler::apply_penalties(std::vector<float>& x) const {
  if (p_.repetition_penalty != 1.0) {
    float r = float(p_.repetition_penalty);
    for (size_t i = 0; i < seen_.size() && i < x.size(); ++i)
      if (seen_[i]) x[i] = x[i] < 0 ? x[i] * r : x[i] / r;
  }
  if (p_.frequency_penalty != 0 || p_.presence_penalty != 0)
    for (auto [id, count] : generated_)
      if (size_t(id) < x.size())
        x[size_t(id)] -= float(double(count) * p_.frequency_penalty + p_.presence_penalty);
}

std::vector<float> Sampler::penalized(std::span<const float> logits) const {
  std::vector<float> x(logits.begin(), logits.end());
  apply_penalties(x);
  return x;
}

void Sampler::filter(const std::vector<float>& x) {
  int64_t v = int64_t(x.size());
  cand_.resize(size_t(v));
  std::iota(cand_.begin(), cand_.end(), 0);
  auto more_likely = [&](int32_t a, int32_t b) { return x[size_t(a)] > x[size_t(b)]; };
  if (p_.top_k > 0 && p_.top_k < v) {
    // Keep every token at least as likely as the k-th, as HF does (ties with it stay).
    std::nth_element(cand_.begin(), cand_.begin() + p_.top_k - 1, cand_.end(), more_likely);
    float kth = x[size_t(cand_[size_t(p_.top_k - 1)])];
    cand_.erase(
        std::remove_if(cand_.begin(), cand_.end(), [&](int32_t i) { return x[size_t(i)] < kth; }),
        cand_.end());
  }
  bool ordered = p_.top_p < 1.0 || p_.min_p > 0;
  if (ordered) std::stable_sort(cand_.begin(), cand_.end(), more_likely);
  float mx = -std::numeric_limits<float>::infinity();
  for (int32_t i : cand_) mx = std::max(mx, x[size_t(i)]);
  double inv_t = 1.0 / p_.temperature, total = 0;
  probs_.resize(cand_.size());
  for (size_t j = 0; j < cand_.size(); ++j)
    total += probs_[j] = std::exp((double(x[size_t(cand_[j])]) - mx) * inv_t);
  size_t keep = cand_.size();
  if (p_.top_p < 1.0) {
    // Keep token j while the mass before it is below top_p: the smallest set reaching top_p.
    double before = 0;
    for (size_t j = 0; j < keep; ++j) {
      if (before >= p_.top_p * total) {
        keep = j;
        break;
      }
      before += probs_[j];
    }
  }
  if (p_.min_p > 0) {
    double floor = p_.min_p * probs_[0];  // probs_[0] is the most likely (ordered)
    size_t j = 1;
    while (j < keep && probs_[j] >= floor) ++j;
    keep = j;
  }
  cand_.resize(keep);
  probs_.resize(keep);
  total = std::accumulate(probs_.begin(), probs_.end(), 0.0);
  for (double& q : probs_) q /= total;
}

std::vector<double> Sampler::distribution(std::span<const float> logits) {
  std::vector<double> out(logits.size(), 0.0);
  work_.assign(logits.begin(), logits.end());
  apply_penalties(work_);
  if (p_.greedy()) {
    out[size_t(std::max_element(work_.begin(), work_.end()) - work_.begin())] = 1.0;
    return out;
  }
  filter(work_);
  for (size_t j = 0; j < cand_.size(); ++j) out[size_t(cand_[j])] = probs_[j];
  return out;
}

Sample Sampler::next(std::span<const float> logits) {
  KILN_REQUIRE(!logits.empty(), "sampler: empty logits");
  size_t n = p_.vocab_limit > 0 ? std::min(logits.size(), size_t(p_.vocab_limit)) : logits.size();
  work_.assign(logits.begin(), logits.begin() + ptrdiff_t(n));
  apply_penalties(work_);
  int32_t id;
  if (p_.greedy()) {
    id = int32_t(std::max_element(work_.begin(), work_.end()) - work_.begin());
  } else {
    filter(work_);
    double u = gen_.next_uniform(), acc = 0;
    id = cand_.back();  // rounding may leave u just above the last cumulative sum
    for (size_t j = 0; j < cand_.size(); ++j)
      if ((acc += probs_[j]) > u) {
        id = cand_[j];
        break;
      }
  }
  return accept(id, logits);
}

Sample Sampler::accept(int32_t id, std::span<const float> logits) {
  KILN_REQUIRE(id >= 0 && size_t(id) < logits.size(), "sampler: token id ", id,
               " out of range [0, ", logits.size(), ")");
  Sample s;
  s.id = id;
  // The model's own log-probabilities: log-softmax of the raw logits.
  float mx = *std::max_element(logits.begin(), logits.end());
  double z = 0;
  for (float l : logits) z += std::exp(double(l) - mx);
  double lse = mx + std::log(z);
  s.logprob = float(double(logits[size_t(s.id)]) - lse);
  if (p_.logprobs > 0) {
    int64_t n = std::min<int64_t>(p_.logprobs, int64_t(logits.size()));
    cand_.resize(logits.size());
    std::iota(cand_.begin(), cand_.end(), 0);
    std::partial_sort(cand_.begin(), cand_.begin() + n, cand_.end(), [&](int32_t a, int32_t b) {
      return logits[size_t(a)] > logits[size_t(b)] ||
             (logits[size_t(a)] == logits[size_t(b)] && a < b);
    });
    for (int64_t j = 0; j < n; ++j)
      s.top.push_back({cand_[size_t(j)], float(double(logits[size_t(cand_[size_t(j)])]) - lse)});
  }
  record(s.id);
  return s;
}

}  // namespace kiln::infer
