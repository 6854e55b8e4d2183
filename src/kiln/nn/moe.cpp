#include "kiln/nn/moe.h"

#include "kiln/autograd/functions.h"

namespace kiln::nn {

RouterScore parse_router_score(const std::string& s, const std::string& field) {
  if (s == "softmax") return RouterScore::Softmax;
  if (s == "sigmoid") return RouterScore::Sigmoid;
  throw Error(str(field, ": found \"", s, "\", expected \"softmax\" or \"sigmoid\""));
}

const char* router_score_name(RouterScore r) {
  return r == RouterScore::Softmax ? "softmax" : "sigmoid";
}

namespace {

Tensor i64(const std::vector<int64_t>& v, const Shape& shape, Device dev) {
  return Tensor::from_vector(v, shape, dev);
}

// logsumexp over the last dim, stable: the detached row max is subtracted and added back.
Tensor logsumexp(const Tensor& x) {
  Tensor m = max(x, -1, true).detach();
  return squeeze(log(sum(exp(x - m), {-1}, true)) + m, -1);
}

}  // namespace

Moe::Moe(const MoeConfig& c, DType dt) : c_(c) {
  KILN_REQUIRE(c.num_experts >= 1 && c.top_k >= 1 && c.top_k <= c.num_experts,
               "moe: num_experts_per_tok ", c.top_k,
               " must be in [1, num_experts = ", c.num_experts, "]");
  gate = register_module("gate", std::make_unique<Linear>(c.hidden, c.num_experts, false, dt));
  experts = register_module("experts", std::make_unique<ModuleList<Mlp>>());
  MlpConfig ec{c.hidden, c.expert_intermediate, FfnKind::Glu, c.act, false};
  for (int64_t e = 0; e < c.num_experts; ++e) experts->push_back(std::make_unique<Mlp>(ec, dt));
  if (c.shared_intermediate > 0) {
    MlpConfig sc{c.hidden, c.shared_intermediate, FfnKind::Glu, c.act, false};
    shared_expert = register_module("shared_expert", std::make_unique<Mlp>(sc, dt));
    shared_expert_gate =
        register_module("shared_expert_gate", std::make_unique<Linear>(c.hidden, 1, false, dt));
  }
  window_counts_.assign(size_t(c.num_experts), 0);
}

void Moe::reset_balance_window() {
  window_counts_.assign(size_t(c_.num_experts), 0);
  window_tokens_ = 0;
}

// Each expert's MLP on its block of gathered rows; row M of the result is zeros, the target of
// dropped slots. Returns [M + 1, D].
Tensor Moe::run_experts(const Tensor& x2, const Routing& r) const {
  int64_t d = x2.size(1);
  Tensor zero = Tensor::zeros({1, d}, x2.dtype(), x2.device());
  if (r.rows.empty()) return zero;
  Tensor xs = embedding(x2, i64(r.rows, {int64_t(r.rows.size())}, x2.device()));
  std::vector<Tensor> ys;
  int64_t off = 0;
  for (int64_t e = 0; e < r.experts; ++e) {
    int64_t n = r.group[size_t(e)];
    if (n > 0) ys.push_back((*experts)[size_t(e)].forward(narrow(xs, 0, off, n)));
    off += n;
  }
  ys.push_back(zero);
  return concat(ys, 0);
}

Tensor Moe::forward(const Tensor& x) {
  int64_t d = x.size(-1), e = c_.num_experts, k = c_.top_k;
  KILN_REQUIRE(d == c_.hidden, "moe: input ", shape_str(x.sizes()), ", expected [..., ", c_.hidden,
               "]");
  Tensor x2 = reshape(x, {-1, d});
  int64_t n = x2.size(0);
  Tensor logits = to_dtype(gate->forward(x2), DType::F32);
  Tensor probs = c_.score == RouterScore::Softmax ? softmax(logits, -1) : sigmoid(logits);

  int64_t cap =
      training() && c_.capacity_factor > 0 ? expert_capacity(c_.capacity_factor, n, e, k) : 0;
  routing_ = route_top_k(probs.to_vector<float>(), n, e, k, cap);
  const Routing& r = routing_;

  // Weights: the chosen probabilities, gathered from probs viewed as [N * E, 1].
  std::vector<int64_t> flat(size_t(n * k));
  for (int64_t i = 0; i < n * k; ++i) flat[size_t(i)] = (i / k) * e + r.expert[size_t(i)];
  Tensor w = embedding(reshape(probs, {n * e, 1}), i64(flat, {n, k}, x.device()));  // [N, k, 1]
  if (c_.norm_topk_prob) w = w / sum(w, {1}, true);
  w = to_dtype(w, x.dtype());

  std::vector<int64_t> pos(r.position);
  int64_t zero_row = int64_t(r.rows.size());
  for (int64_t& p : pos)
    if (p < 0) p = zero_row;
  Tensor ys = run_experts(x2, r);
  Tensor picked = embedding(ys, i64(pos, {n, k}, x.device()));  // [N, k, D]
  Tensor out = sum(picked * w, {1});
  if (shared_expert)
    out = out + sigmoid(shared_expert_gate->forward(x2)) * shared_expert->forward(x2);

  // Losses and utilization.
  stats_.tokens = n;
  stats_.counts = r.counts;
  stats_.dropped = r.dropped;
  std::vector<float> f(static_cast<size_t>(e));
  if (c_.global_balance) {
    for (int64_t i = 0; i < e; ++i) window_counts_[size_t(i)] += r.counts[size_t(i)];
    window_tokens_ += n;
  }
  const std::vector<int64_t>& cnt = c_.global_balance ? window_counts_ : r.counts;
  int64_t denom = c_.global_balance ? window_tokens_ : n;
  for (int64_t i = 0; i < e; ++i) f[size_t(i)] = float(double(cnt[size_t(i)]) / double(denom));
  Tensor p = c_.score == RouterScore::Softmax ? probs : probs / sum(probs, {-1}, true);
  Tensor p_mean = mean(p, {0});
  stats_.aux_loss = sum(p_mean * Tensor::from_vector(f, {e}, x.device())) * double(e);
  Tensor lse = logsumexp(logits);
  stats_.z_loss = mean(lse * lse);
  return reshape(out, x.sizes());
}

}  // namespace kiln::nn
