// MoE: routing, grouped experts against a per-token loop, losses on hand-checked examples,
// capacity dropping and utilization counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kiln/autograd/functions.h"
#include "kiln/nn/moe.h"
#include "tiny_models.h"

namespace kiln::nn {
namespace {

using models::test::max_abs_diff;

TEST(Routing, TopKGroupsSlotsByExpert) {
  // 3 tokens, 4 experts, top-2.
  std::vector<float> s{0.1f, 0.5f, 0.3f, 0.1f,   // token 0: experts 1, 2
                       0.6f, 0.1f, 0.2f, 0.1f,   // token 1: experts 0, 2
                       0.2f, 0.2f, 0.1f, 0.5f};  // token 2: experts 3, 0 (tie 0/1 -> 0)
  Routing r = route_top_k(s, 3, 4, 2);
  EXPECT_EQ(r.expert, (std::vector<int64_t>{1, 2, 0, 2, 3, 0}));
  EXPECT_EQ(r.counts, (std::vector<int64_t>{2, 1, 2, 1}));
  EXPECT_EQ(r.group, r.counts);
  // Rows grouped by expert; inside an expert first choices come before second choices.
  EXPECT_EQ(r.rows, (std::vector<int64_t>{1, 2, 0, 0, 1, 2}));
  EXPECT_EQ(r.position, (std::vector<int64_t>{2, 3, 0, 4, 5, 1}));
  EXPECT_EQ(r.dropped, 0);
  // Capacity 1: expert 0 keeps token 1 (a first choice) and drops token 2's second choice;
  // expert 2 keeps token 0's second choice (its earliest token) and drops token 1's.
  Routing c = route_top_k(s, 3, 4, 2, 1);
  EXPECT_EQ(c.group, (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(c.dropped, 2);
  EXPECT_EQ(c.position, (std::vector<int64_t>{1, 2, 0, -1, 3, -1}));
  EXPECT_EQ(expert_capacity(1.25, 3, 4, 2), 2);
}

MoeConfig small(int64_t k, bool norm, RouterScore score = RouterScore::Softmax,
                int64_t shared = 0) {
  MoeConfig c;
  c.hidden = 8;
  c.num_experts = 4;
  c.top_k = k;
  c.expert_intermediate = 6;
  c.norm_topk_prob = norm;
  c.score = score;
  c.shared_intermediate = shared;
  return c;
}

// The MoE written as a loop over tokens, differentiably, for reference.
Tensor per_token(const Moe& m, const Tensor& x, const MoeConfig& c) {
  Tensor logits = to_dtype(m.gate->forward(x), DType::F32);
  Tensor probs = c.score == RouterScore::Softmax ? softmax(logits, -1) : sigmoid(logits);
  std::vector<float> p = probs.to_vector<float>();
  std::vector<Tensor> rows;
  for (int64_t n = 0; n < x.size(0); ++n) {
    std::vector<int64_t> order(size_t(c.num_experts));
    std::iota(order.begin(), order.end(), 0);
    const float* pn = p.data() + n * c.num_experts;
    std::stable_sort(order.begin(), order.end(),
                     [pn](int64_t a, int64_t b) { return pn[a] > pn[b]; });
    Tensor xn = narrow(x, 0, n, 1), pr = narrow(probs, 0, n, 1);
    std::vector<Tensor> ws;
    for (int64_t j = 0; j < c.top_k; ++j) ws.push_back(narrow(pr, 1, order[size_t(j)], 1));
    Tensor denom = ws[0];
    for (int64_t j = 1; j < c.top_k; ++j) denom = denom + ws[size_t(j)];
    Tensor y;
    for (int64_t j = 0; j < c.top_k; ++j) {
      Tensor w = c.norm_topk_prob ? ws[size_t(j)] / denom : ws[size_t(j)];
      Tensor term = (*m.experts)[size_t(order[size_t(j)])].forward(xn) * w;
      y = y.defined() ? y + term : term;
    }
    if (m.shared_expert)
      y = y + sigmoid(m.shared_expert_gate->forward(xn)) * m.shared_expert->forward(xn);
    rows.push_back(y);
  }
  return concat(rows, 0);
}

struct Grads {
  Tensor out;
  std::vector<Tensor> g;  // x first, then every parameter
};

Grads run(Moe& m, const Tensor& x0, const Tensor& r, bool grouped, const MoeConfig& c) {
  for (Tensor p : m.parameters()) p.set_grad(Tensor());
  Tensor x = x0.clone().set_requires_grad(true);
  Tensor out = grouped ? m.forward(x) : per_token(m, x, c);
  backward(sum(out * r));
  Grads res{out.detach(), {x.grad()}};
  for (Tensor p : m.parameters()) res.g.push_back(p.grad());
  return res;
}

void check_grouped(const MoeConfig& c) {
  Moe m(c);
  Generator gen(21);
  m.init_parameters(gen, 0.5);
  Tensor x = Tensor::empty({13, 8}), r = Tensor::empty({13, 8});
  normal_(x, 0, 1, gen);
  normal_(r, 0, 1, gen);
  Grads a = run(m, x, r, true, c), b = run(m, x, r, false, c);
  EXPECT_LE(max_abs_diff(a.out, b.out), 1e-5);
  ASSERT_EQ(a.g.size(), b.g.size());
  for (size_t i = 0; i < a.g.size(); ++i) {
    if (!b.g[i].defined()) {  // an expert no token chose
      EXPECT_TRUE(!a.g[i].defined() || max_abs_diff(a.g[i], a.g[i] * 0.0) == 0.0) << i;
      continue;
    }
    ASSERT_TRUE(a.g[i].defined()) << i;
    EXPECT_LE(max_abs_diff(a.g[i], b.g[i]), 1e-5) << "gradient " << i;
  }
  int64_t routed = 0;
  for (int64_t n : m.stats().counts) routed += n;
  EXPECT_EQ(routed, 13 * c.top_k);
}

TEST(Moe, GroupedExpertsEqualPerTokenLoop) {
  check_grouped(small(2, true));
  check_grouped(small(1, false));
  check_grouped(small(3, false));
  check_grouped(small(2, true, RouterScore::Sigmoid));
  check_grouped(small(2, true, RouterScore::Softmax, 5));  // Qwen2-MoE shared expert
}

// Two experts, top-1, D = 2; the router gives both tokens probabilities (0.75, 0.25).
std::unique_ptr<Moe> hand_moe(bool global) {
  MoeConfig c;
  c.hidden = 2;
  c.num_experts = 2;
  c.top_k = 1;
  c.expert_intermediate = 2;
  c.global_balance = global;
  auto m = std::make_unique<Moe>(c);
  Generator g(1);
  m->init_parameters(g, 0.1);
  m->gate->weight.copy_(Tensor::from_vector<float>({float(std::log(3.0)), 0, 0, 0}, {2, 2}));
  return m;
}

TEST(Moe, AuxAndZLossByHand) {
  auto m = hand_moe(false);
  NoGradGuard ng;
  m->forward(Tensor::from_vector<float>({1, 0, 1, 5}, {2, 2}));
  // f = (2/2, 0/2) tokens routed per expert, P = (0.75, 0.25): aux = 2 * (1 * 0.75) = 1.5.
  EXPECT_NEAR(m->stats().aux_loss.item(), 1.5, 1e-6);
  // logsumexp of (ln 3, 0) is ln 4 for both tokens.
  EXPECT_NEAR(m->stats().z_loss.item(), std::log(4.0) * std::log(4.0), 1e-6);
  EXPECT_EQ(m->stats().counts, (std::vector<int64_t>{2, 0}));
}

TEST(Moe, GlobalBatchBalanceAccumulatesFractions) {
  auto m = hand_moe(true);
  NoGradGuard ng;
  m->forward(Tensor::from_vector<float>({1, 0, 1, 0}, {2, 2}));  // both to expert 0
  EXPECT_NEAR(m->stats().aux_loss.item(), 1.5, 1e-6);
  // Second micro-batch: x = (-1, 0) gives probabilities (0.25, 0.75), both to expert 1. Over the
  // window f = (2/4, 2/4) while P is this batch's (0.25, 0.75): aux = 2 * 0.5 = 1.0.
  m->forward(Tensor::from_vector<float>({-1, 0, -1, 0}, {2, 2}));
  EXPECT_NEAR(m->stats().aux_loss.item(), 1.0, 1e-6);
  m->reset_balance_window();
  m->forward(Tensor::from_vector<float>({-1, 0, -1, 0}, {2, 2}));
  EXPECT_NEAR(m->stats().aux_loss.item(), 1.5, 1e-6);  // f = (0, 1), P_1 = 0.75
}

TEST(Moe, CapacityDropsOnlyInTraining) {
  MoeConfig c = small(1, false);
  c.capacity_factor = 1.0;  // capacity ceil(1 * 8 / 4) = 2 slots per expert
  Moe m(c);
  Generator g(4);
  m.init_parameters(g, 0.5);
  // Steer every token to expert 0: x = e0, and the router maps dim 0 to expert 0 only.
  Tensor w = Tensor::zeros({4, 8});
  w.narrow(0, 0, 1).narrow(1, 0, 1).fill_(5.0);
  m.gate->weight.copy_(w);
  Tensor x = Tensor::zeros({8, 8});
  x.narrow(1, 0, 1).fill_(1.0);
  NoGradGuard ng;
  Tensor train_out = m.forward(x);
  EXPECT_EQ(m.stats().counts, (std::vector<int64_t>{8, 0, 0, 0}));
  EXPECT_EQ(m.stats().dropped, 6);
  std::vector<float> v = train_out.to_vector<float>();
  for (int64_t n = 0; n < 8; ++n) {
    double norm = 0;
    for (int64_t d = 0; d < 8; ++d) norm += std::abs(v[size_t(n * 8 + d)]);
    if (n < 2)
      EXPECT_GT(norm, 0.0) << "token " << n << " fits the capacity";
    else
      EXPECT_EQ(norm, 0.0) << "token " << n << " is dropped";
  }
  m.eval();
  Tensor eval_out = m.forward(x);
  EXPECT_EQ(m.stats().dropped, 0);
  // Same rows through GEMMs of other sizes: equal up to summation order.
  EXPECT_LE(max_abs_diff(eval_out.narrow(0, 0, 2), train_out.narrow(0, 0, 2)), 1e-6);
  EXPECT_LE(max_abs_diff(eval_out.narrow(0, 2, 1), eval_out.narrow(0, 0, 1)), 1e-6);
}

TEST(Moe, DecoderUtilizationSumsToTokensTimesK) {
  models::ModelConfig c = models::load_preset("debug-moe");
  c.num_hidden_layers = 2;
  c.sliding_layers.resize(2);
  auto m = models::test::random_model(c);
  NoGradGuard ng;
  std::vector<int64_t> ids(24);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int64_t(i * 997 % 32000);
  models::ForwardOutput out = m->forward(models::test::ids_tensor(ids, 3));
  ASSERT_EQ(out.utilization.size(), 2u);
  for (const auto& u : out.utilization) {
    EXPECT_EQ(std::accumulate(u.counts.begin(), u.counts.end(), int64_t(0)), 24 * 2);
    EXPECT_EQ(u.dropped, 0);
  }
  EXPECT_GT(out.aux_loss.item(), 0.0);
  EXPECT_NEAR(out.moe_loss.item(), 0.01 * out.aux_loss.item() + 0.001 * out.z_loss.item(), 1e-6);
}

}  // namespace
}  // namespace kiln::nn
