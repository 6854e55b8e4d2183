// kiln side of the unary cases in cases_basic.py.
#include "harness.h"
#include "kiln/autograd/functions.h"

namespace kiln::test {
namespace {

using V = std::vector<Tensor>;
using J = nlohmann::json;

template <Tensor (*F)(const Tensor&)>
V unary(const V& x, const J&) {
  return V{F(x[0])};
}

RegisterOp neg_op("neg", unary<kiln::neg>);
RegisterOp exp_op("exp", unary<kiln::exp>);
RegisterOp log_op("log", unary<kiln::log>);
RegisterOp sqrt_op("sqrt", unary<kiln::sqrt>);
RegisterOp rsqrt_op("rsqrt", unary<kiln::rsqrt>);
RegisterOp tanh_op("tanh", unary<kiln::tanh>);
RegisterOp sigmoid_op("sigmoid", unary<kiln::sigmoid>);
RegisterOp relu_op("relu", unary<kiln::relu>);
RegisterOp silu_op("silu", unary<kiln::silu>);
RegisterOp gelu_op("gelu", unary<kiln::gelu>);
RegisterOp gelu_tanh_op("gelu_tanh", unary<kiln::gelu_tanh>);

}  // namespace
}  // namespace kiln::test
