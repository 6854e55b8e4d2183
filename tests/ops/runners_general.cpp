// kiln side of cases_general.py.
#include "harness.h"
#include "kiln/autograd/functions.h"

namespace kiln::test {
namespace {

using V = std::vector<Tensor>;
using J = nlohmann::json;

RegisterOp softmax_op("softmax", [](const V& x, const J& p) { return V{softmax(x[0], p["dim"])}; });
RegisterOp log_softmax_op("log_softmax",
                          [](const V& x, const J& p) { return V{log_softmax(x[0], p["dim"])}; });
RegisterOp max_op("max", [](const V& x, const J& p) {
  return V{max(x[0], p["dim"].get<int64_t>(), p["keepdim"].get<bool>())};
});

RegisterOp where_op("where", [](const V& x, const J&) { return V{where(x[0], x[1], x[2])}; });
RegisterOp masked_fill_op("masked_fill", [](const V& x, const J& p) {
  return V{masked_fill(x[0], x[1], p["value"].get<double>())};
});
RegisterOp dropout_op("dropout", [](const V& x, const J& p) {
  Generator g(7);
  return V{dropout(x[0], p["p"].get<double>(), p["training"].get<bool>(), g)};
});

RegisterOp concat_op("concat", [](const V& x, const J& p) {
  return V{kiln::concat(x, p["dim"].get<int64_t>())};
});
// "keep" lists the pieces the case uses; the rest get no gradient.
RegisterOp split_op("split", [](const V& x, const J& p) {
  V parts = split(x[0], p["sizes"].get<std::vector<int64_t>>(), p["dim"]);
  if (!p.contains("keep")) return parts;
  V kept;
  for (size_t i : p["keep"].get<std::vector<size_t>>()) kept.push_back(parts[i]);
  return kept;
});

RegisterOp embedding_op("embedding", [](const V& x, const J&) { return V{embedding(x[0], x[1])}; });

}  // namespace
}  // namespace kiln::test
