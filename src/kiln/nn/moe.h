#pragma once
// Mixture of experts (Qwen3-MoE / Qwen2-MoE / Switch). The router "gate" [E, D] scores every token
// (softmax, or sigmoid as in DeepSeek-V3); each token goes to its top-k experts with the chosen
// scores as weights (renormalized to sum to 1 when norm_topk_prob). Experts run grouped: slots are
// sorted by expert (routing.h), rows gathered with embedding(x, rows), each expert's MLP runs once
// on its contiguous block, and a second gather un-permutes the outputs, which are weighted and
// summed over k. Gathers scatter-add in backward, so no loop over tokens exists in either pass.
//
// Qwen2-MoE's shared expert (shared_expert + shared_expert_gate [1, D]) adds
// sigmoid(shared_expert_gate(x)) * shared_expert(x) when shared_intermediate > 0.
//
// In training with capacity_factor > 0, each expert keeps at most
// ceil(capacity_factor * tokens * k / E) slots; dropped slots contribute nothing (the residual
// carries the token). Losses, per forward:
//   aux_loss = E * sum_e f_e * P_e (Switch; HF Qwen's per-layer form), f_e = slots routed to e per
//              token (sums to k), P_e = mean router probability of e. With global balance, f_e
//              counts every micro-batch since reset_balance_window() (global-batch balancing).
//   z_loss   = mean over tokens of logsumexp(router logits)^2 (ST-MoE).
#include <vector>

#include "kiln/nn/mlp.h"
#include "kiln/nn/routing.h"

namespace kiln::nn {

enum class RouterScore : uint8_t { Softmax, Sigmoid };
RouterScore parse_router_score(const std::string& s, const std::string& field = "router_score");
const char* router_score_name(RouterScore r);

struct MoeConfig {
  int64_t hidden = 0;
  int64_t num_experts = 0;
  int64_t top_k = 1;
  int64_t expert_intermediate = 0;
  Activation act = Activation::SiLU;
  bool norm_topk_prob = true;
  RouterScore score = RouterScore::Softmax;
  int64_t shared_intermediate = 0;  // 0: no shared expert
  double capacity_factor = 0;       // 0: dropless
  bool global_balance = false;
};

struct MoeStats {
  int64_t tokens = 0;
  std::vector<int64_t> counts;  // [E] slots routed per expert in the last forward (sum tokens*k)
  int64_t dropped = 0;          // slots dropped by capacity in the last forward
  Tensor aux_loss;              // f32 scalar
  Tensor z_loss;                // f32 scalar
};

class Moe : public Module {
 public:
  explicit Moe(const MoeConfig& c, DType dt = DType::F32);
  // x [..., D] -> [..., D]; updates stats().
  Tensor forward(const Tensor& x);
  const MoeStats& stats() const { return stats_; }
  const Routing& last_routing() const { return routing_; }
  // Starts a new global batch for global load balancing.
  void reset_balance_window();
  const MoeConfig& config() const { return c_; }

  Linear* gate;
  ModuleList<Mlp>* experts;
  Mlp* shared_expert = nullptr;
  Linear* shared_expert_gate = nullptr;

 private:
  Tensor run_experts(const Tensor& x2, const Routing& r) const;

  MoeConfig c_;
  MoeStats stats_;
  Routing routing_;
  std::vector<int64_t> window_counts_;
  int64_t window_tokens_ = 0;
};

}  // namespace kiln::nn
