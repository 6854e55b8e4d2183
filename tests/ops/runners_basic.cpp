// kiln side of cases_basic.py.
#include "harness.h"
#include "kiln/autograd/functions.h"

namespace kiln::test {
namespace {

using V = std::vector<Tensor>;
using J = nlohmann::json;

RegisterOp add_op("add", [](const V& x, const J&) { return V{add(x[0], x[1])}; });
RegisterOp sub_op("sub", [](const V& x, const J&) { return V{sub(x[0], x[1])}; });
RegisterOp mul_op("mul", [](const V& x, const J&) { return V{mul(x[0], x[1])}; });
RegisterOp div_op("div", [](const V& x, const J&) { return V{div(x[0], x[1])}; });
RegisterOp max_op("maximum", [](const V& x, const J&) { return V{maximum(x[0], x[1])}; });
RegisterOp min_op("minimum", [](const V& x, const J&) { return V{minimum(x[0], x[1])}; });
RegisterOp pow_op("pow", [](const V& x, const J&) { return V{pow(x[0], x[1])}; });
RegisterOp add_s("add_scalar", [](const V& x, const J& p) { return V{add_scalar(x[0], p["s"])}; });
RegisterOp mul_s("mul_scalar", [](const V& x, const J& p) { return V{mul_scalar(x[0], p["s"])}; });
RegisterOp pow_s("pow_scalar", [](const V& x, const J& p) { return V{pow_scalar(x[0], p["p"])}; });

RegisterOp sum_op("sum", [](const V& x, const J& p) {
  return V{sum(x[0], p["dims"].get<std::vector<int64_t>>(), p["keepdim"])};
});
RegisterOp mean_op("mean", [](const V& x, const J& p) {
  return V{mean(x[0], p["dims"].get<std::vector<int64_t>>(), p["keepdim"])};
});
RegisterOp matmul_op("matmul", [](const V& x, const J& p) {
  // transpose_b: multiply by a transposed view, the layout linear() hands to gemm.
  return V{matmul(x[0], p.value("transpose_b", false) ? transpose(x[1], -1, -2) : x[1])};
});
RegisterOp linear_op("linear", [](const V& x, const J&) {
  return V{linear(x[0], x[1], x.size() > 2 ? x[2] : Tensor())};
});

}  // namespace
}  // namespace kiln::test
