#pragma once
// Token-to-expert assignment for MoE, on the host: top-k per token, then every (token, choice)
// slot sorted by expert so each expert's rows form one contiguous block. With a capacity, an
// expert keeps at most `capacity` slots, first-choice slots before second-choice ones and earlier
// tokens before later ones (GShard's priority); the rest are dropped.
#include <cstdint>
#include <vector>

namespace kiln::nn {

struct Routing {
  int64_t tokens = 0, experts = 0, k = 0;
  std::vector<int64_t> expert;    // [tokens * k]: chosen expert of slot n * k + j, best first
  std::vector<int64_t> rows;      // token of each kept slot, grouped by expert
  std::vector<int64_t> group;     // [experts]: kept slots per expert (block sizes of `rows`)
  std::vector<int64_t> position;  // [tokens * k]: row of the slot in `rows`, -1 when dropped
  std::vector<int64_t> counts;    // [experts]: slots routed to each expert before dropping
  int64_t dropped = 0;
};

// scores [tokens, experts] row-major. capacity 0 means none. Ties go to the lower expert index.
Routing route_top_k(const std::vector<float>& scores, int64_t tokens, int64_t experts, int64_t k,
                    int64_t capacity = 0);

// GShard/Switch capacity: ceil(factor * tokens * k / experts), at least 1.
int64_t expert_capacity(double factor, int64_t tokens, int64_t experts, int64_t k);

}  // namespace kiln::nn
