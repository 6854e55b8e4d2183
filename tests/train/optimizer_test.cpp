// kiln's optimizers and schedules against torch.optim trajectories (optim_refs.py).
#include <gtest/gtest.h>

#include <cmath>

#include "kiln/core/rng.h"
#include "kiln/io/safetensors.h"
#include "kiln/ops/binary.h"
#include "kiln/ops/matmul.h"
#include "kiln/ops/unary.h"
#include "kiln/train/optimizer.h"
#include "kiln/train/schedule.h"

namespace kiln::train {
namespace {

const io::SafetensorsFile& refs() {
  static io::SafetensorsFile f(KILN_OPTIM_REFS);
  return f;
}

// Replays the reference gradients through `make` and compares every step's parameter.
void check_trajectory(
    const std::string& name,
    const std::function<std::unique_ptr<Optimizer>(std::vector<ParamGroup>)>& make,
    double weight_decay) {
  const auto& r = refs();
  std::vector<double> lrs = r.get("lrs").to_vector<double>();
  Tensor p = r.get(name + "/p0").clone().set_requires_grad(true);
  auto opt = make({ParamGroup{{"w"}, {p}, 1.0, weight_decay}});
  for (size_t s = 0; s < lrs.size(); ++s) {
    p.set_grad(r.get(name + "/g" + std::to_string(s)).clone());
    opt->step(lrs[s]);
    std::vector<float> got = p.to_vector<float>();
    std::vector<float> want = r.get(name + "/p" + std::to_string(s + 1)).to_vector<float>();
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2e-6 + 2e-6 * std::abs(want[i]))
          << name << " step " << s + 1 << " element " << i;
  }
}

TEST(Optimizer, AdamWMatchesTorch) {
  check_trajectory(
      "adamw",
      [](auto g) {
        return make_adamw(std::move(g), {0.9, 0.95, 1e-8});
      },
      0.1);
  check_trajectory(
      "adamw_nodecay",
      [](auto g) {
        return make_adamw(std::move(g), {0.8, 0.99, 1e-6});
      },
      0.0);
}

TEST(Optimizer, SGDMomentumMatchesTorch) {
  check_trajectory(
      "sgd",
      [](auto g) {
        return make_sgd(std::move(g), {0.9, false});
      },
      0.0);
  check_trajectory(
      "sgd_nesterov",
      [](auto g) {
        return make_sgd(std::move(g), {0.9, true});
      },
      0.0);
}

TEST(Optimizer, StateRoundTripContinuesIdentically) {
  const auto& r = refs();
  auto run = [&](bool reload) {
    Tensor p = r.get("adamw/p0").clone().set_requires_grad(true);
    auto opt = make_adamw({ParamGroup{{"w"}, {p}, 1.0, 0.1}});
    for (int s = 0; s < 6; ++s) {
      if (reload && s == 3) {
        auto st = opt->state();
        std::map<std::string, Tensor> copy;
        for (auto& [k, v] : st) copy[k] = v.clone();
        opt = make_adamw({ParamGroup{{"w"}, {p}, 1.0, 0.1}});
        opt->load_state(copy);
      }
      p.set_grad(r.get("adamw/g" + std::to_string(s)).clone());
      opt->step(1e-2);
    }
    return p.to_vector<float>();
  };
  EXPECT_EQ(run(false), run(true));  // bit-identical
}

TEST(Optimizer, MuonOrthogonalizesUpdates) {
  // One Muon step from zero momentum on a gradient G moves a matrix by lr * sqrt-scale * O(G),
  // where O(G) has singular values near 1: check the update's singular spread via O O^T ~ I.
  Tensor p = Tensor::zeros({8, 8}).set_requires_grad(true);
  Tensor g = Tensor::empty({8, 8});
  normal_(g, 0, 1);
  p.set_grad(g);
  auto opt = make_muon({ParamGroup{{"w"}, {p}, 1.0, 0.0}}, {}, {0.0, false, 5, {}});
  opt->step(1.0);
  Tensor o = ops::scale(p, -1.0);
  Tensor oot = ops::matmul(o, o.transpose(0, 1));
  std::vector<float> v = oot.to_vector<float>();
  for (int i = 0; i < 8; ++i) {
    EXPECT_GT(v[size_t(i * 9)], 0.5f);  // Muon's quintic lands singular values in ~[0.7, 1.2]
    EXPECT_LT(v[size_t(i * 9)], 1.6f);
  }
}

TEST(Optimizer, ClipGradNorm) {
  Tensor a = Tensor::zeros({2}).set_requires_grad(true),
         b = Tensor::zeros({1}).set_requires_grad(true);
  a.set_grad(Tensor::from_vector<float>({3, 0}, {2}));
  b.set_grad(Tensor::from_vector<float>({4}, {1}));
  EXPECT_NEAR(clip_grad_norm({a, b}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad().to_vector<float>()[0], 0.6f, 1e-5);
  EXPECT_NEAR(b.grad().to_vector<float>()[0], 0.8f, 1e-5);
}

TEST(Schedule, OneCycleMatchesTorch) {
  std::vector<double> want = refs().get("one_cycle").to_vector<double>();
  ScheduleConfig c{.kind = "one_cycle", .lr = 0.1, .total = 50};
  for (size_t s = 0; s < want.size(); ++s)
    EXPECT_NEAR(learning_rate(c, int64_t(s)), want[s], 1e-12) << "step " << s;
}

TEST(Schedule, Shapes) {
  ScheduleConfig cos{.kind = "cosine", .lr = 1.0, .min_lr = 0.1, .warmup = 10, .total = 110};
  EXPECT_DOUBLE_EQ(learning_rate(cos, 0), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(cos, 9), 1.0);
  EXPECT_NEAR(learning_rate(cos, 60), 0.55, 1e-12);
  EXPECT_NEAR(learning_rate(cos, 110), 0.1, 1e-12);
  ScheduleConfig wsd{.kind = "wsd", .lr = 1.0, .min_lr = 0.0, .total = 100, .decay_fraction = 0.2};
  EXPECT_DOUBLE_EQ(learning_rate(wsd, 79), 1.0);
  EXPECT_NEAR(learning_rate(wsd, 90), 0.5, 1e-12);
  ScheduleConfig rs{.kind = "cosine_restarts", .lr = 1.0, .total = 100, .cycle = 20};
  EXPECT_DOUBLE_EQ(learning_rate(rs, 20), 1.0);
  EXPECT_NEAR(learning_rate(rs, 30), 0.5, 1e-12);
  ScheduleConfig lin{.kind = "linear", .lr = 1.0, .min_lr = 0.0, .total = 10};
  EXPECT_NEAR(learning_rate(lin, 5), 0.5, 1e-12);
}

TEST(Schedule, RejectsBadConfig) {
  EXPECT_THROW(validate({.kind = "cosin"}), Error);
  EXPECT_THROW(validate({.kind = "cosine", .lr = -1}), Error);
  EXPECT_THROW(validate({.kind = "cosine", .warmup = 5, .total = 2}), Error);
}

}  // namespace
}  // namespace kiln::train
