#include "kiln/nn/routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kiln/core/error.h"

namespace kiln::nn {

Routing route_top_k(const std::vector<float>& scores, int64_t tokens, int64_t experts, int64_t k,
                    int64_t capacity) {
  KILN_REQUIRE(k >= 1 && k <= experts, "moe: num_experts_per_tok ", k, ", expected in [1, ",
               experts, "]");
  KILN_CHECK(int64_t(scores.size()) == tokens * experts, "route_top_k: score count");
  Routing r;
  r.tokens = tokens;
  r.experts = experts;
  r.k = k;
  r.expert.resize(size_t(tokens * k));
  std::vector<int64_t> idx(static_cast<size_t>(experts));
  for (int64_t n = 0; n < tokens; ++n) {
    const float* s = scores.data() + n * experts;
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [s](int64_t a, int64_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
    std::copy(idx.begin(), idx.begin() + k, r.expert.begin() + n * k);
  }
  // Counting sort of slots by expert; within an expert, choice rank then token (the priority).
  r.counts.assign(size_t(experts), 0);
  for (int64_t e : r.expert) ++r.counts[size_t(e)];
  r.group.resize(size_t(experts));
  for (int64_t e = 0; e < experts; ++e)
    r.group[size_t(e)] =
        capacity > 0 ? std::min(capacity, r.counts[size_t(e)]) : r.counts[size_t(e)];
  std::vector<int64_t> start(size_t(experts) + 1, 0);
  for (int64_t e = 0; e < experts; ++e)
    start[size_t(e) + 1] = start[size_t(e)] + r.group[size_t(e)];
  r.rows.resize(size_t(start.back()));
  r.position.assign(size_t(tokens * k), -1);
  std::vector<int64_t> fill(size_t(experts), 0);
  for (int64_t j = 0; j < k; ++j) {
    for (int64_t n = 0; n < tokens; ++n) {
      int64_t slot = n * k + j, e = r.expert[size_t(slot)];
      int64_t& f = fill[size_t(e)];
      if (f < r.group[size_t(e)]) {
        int64_t row = start[size_t(e)] + f++;
        r.rows[size_t(row)] = n;
        r.position[size_t(slot)] = row;
      } else {
        ++r.dropped;
      }
    }
  }
  return r;
}

int64_t expert_capacity(double factor, int64_t tokens, int64_t experts, int64_t k) {
  double c = std::ceil(factor * double(tokens * k) / double(experts));
  return std::max<int64_t>(1, int64_t(c));
}

}  // namespace kiln::nn
