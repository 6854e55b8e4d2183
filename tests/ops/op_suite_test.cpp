// Every reference case x every backend: forward and backward against PyTorch (float64 reference),
// and, on float64 backends, backward against central finite differences.
#include <gtest/gtest.h>

#include <algorithm>

#include "harness.h"
#include "kiln/autograd/functions.h"

namespace kiln::test {
namespace {

struct Param {
  size_t case_index;
  Backend backend;
};
void PrintTo(const Param& p, std::ostream* os) {
  *os << op_cases()[p.case_index].name << " on " << p.backend.name();
}

bool has_grad(const OpCase& c) {
  return std::any_of(c.grad.begin(), c.grad.end(), [](bool g) { return g; });
}

// Each suite instantiates only the (case, backend) pairs it applies to, so nothing is skipped.
std::vector<Param> params_where(bool (*keep)(const OpCase&, const Backend&)) {
  std::vector<Param> p;
  for (size_t i = 0; i < op_cases().size(); ++i)
    for (const Backend& b : test_backends())
      if (keep(op_cases()[i], b)) p.push_back({i, b});
  return p;
}

const OpRunner& runner_for(const OpCase& c) {
  auto it = op_runners().find(c.op);
  if (it == op_runners().end()) throw Error(str("no kiln runner registered for op '", c.op, "'"));
  return it->second;
}

std::vector<Tensor> inputs_on(const OpCase& c, const Backend& b, bool with_grad) {
  std::vector<Tensor> in;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    Tensor t = to_backend(c.inputs[i], b);
    if (with_grad && c.grad[i]) t = t.clone().set_requires_grad(true);
    in.push_back(t);
  }
  return in;
}

// sum_i sum(out_i * cot_i), the scalar whose gradients PyTorch recorded.
Tensor weighted_loss(const std::vector<Tensor>& outs, const OpCase& c, const Backend& b) {
  Tensor total;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!c.cots[i].defined()) continue;
    Tensor term = sum(mul(to_dtype(outs[i], DType::F64), to_backend(c.cots[i], b).to(DType::F64)));
    total = total.defined() ? add(total, term) : term;
  }
  return total;
}

class OpForward : public ::testing::TestWithParam<Param> {};
class OpBackward : public ::testing::TestWithParam<Param> {};
class OpFiniteDifferences : public ::testing::TestWithParam<Param> {};

TEST_P(OpForward, MatchesTorch) {
  const OpCase& c = op_cases()[GetParam().case_index];
  const Backend& b = GetParam().backend;
  NoGradGuard ng;
  std::vector<Tensor> outs = runner_for(c)(inputs_on(c, b, false), c.params);
  ASSERT_EQ(outs.size(), c.outputs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    ASSERT_EQ(outs[i].sizes(), c.outputs[i].sizes()) << "output " << i;
    EXPECT_EQ(outs[i].device(), b.device) << "output " << i;
    Diff d = compare(outs[i], c.outputs[i], b.rtol);
    EXPECT_LE(d.worst, b.atol) << c.name << " output " << i << " at " << d.index << ": kiln "
                               << d.got << " vs torch " << d.want;
  }
}

TEST_P(OpBackward, MatchesTorch) {
  const OpCase& c = op_cases()[GetParam().case_index];
  const Backend& b = GetParam().backend;
  std::vector<Tensor> in = inputs_on(c, b, true);
  backward(weighted_loss(runner_for(c)(in, c.params), c, b));
  for (size_t i = 0; i < in.size(); ++i) {
    if (!c.grad[i]) continue;
    ASSERT_TRUE(in[i].grad().defined()) << c.name << ": no gradient for input " << i;
    ASSERT_EQ(in[i].grad().sizes(), c.grads[i].sizes()) << "input " << i;
    Diff d = compare(in[i].grad(), c.grads[i], b.rtol);
    EXPECT_LE(d.worst, b.atol * 4) << c.name << " grad of input " << i << " at " << d.index
                                   << ": kiln " << d.got << " vs torch " << d.want;
  }
}

TEST_P(OpFiniteDifferences, MatchBackward) {
  const OpCase& c = op_cases()[GetParam().case_index];
  const Backend& b = GetParam().backend;
  std::vector<Tensor> in = inputs_on(c, b, true);
  backward(weighted_loss(runner_for(c)(in, c.params), c, b));
  NoGradGuard ng;
  const double h = 1e-6;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!c.grad[i]) continue;
    std::vector<double> analytic = in[i].grad().to_vector<double>();
    Tensor base = in[i].detach().to(Device::cpu()).contiguous().clone();
    int64_t n = base.numel(), step = std::max<int64_t>(1, n / 12);
    for (int64_t k = 0; k < n; k += step) {
      auto loss_at = [&](double delta) {
        Tensor x = base.clone();
        x.data<double>()[k] += delta;
        std::vector<Tensor> args = inputs_on(c, b, false);
        args[i] = x.to(b.device);
        return weighted_loss(runner_for(c)(args, c.params), c, b).item();
      };
      double numeric = (loss_at(h) - loss_at(-h)) / (2 * h);
      EXPECT_NEAR(analytic[size_t(k)], numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << c.name << " input " << i << " element " << k;
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return op_cases()[info.param.case_index].name + "__" + info.param.backend.name();
}

INSTANTIATE_TEST_SUITE_P(Ops, OpForward,
                         ::testing::ValuesIn(params_where([](const OpCase&, const Backend&) {
                           return true;
                         })),
                         param_name);
INSTANTIATE_TEST_SUITE_P(Ops, OpBackward,
                         ::testing::ValuesIn(params_where([](const OpCase& c, const Backend&) {
                           return has_grad(c);
                         })),
                         param_name);
// Finite differences need float64 to resolve a step of 1e-6.
INSTANTIATE_TEST_SUITE_P(Ops, OpFiniteDifferences,
                         ::testing::ValuesIn(params_where([](const OpCase& c, const Backend& b) {
                           return c.fd && has_grad(c) && b.dtype == DType::F64;
                         })),
                         param_name);

}  // namespace
}  // namespace kiln::test
