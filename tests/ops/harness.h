#pragma once
// The op suite: every case in the PyTorch reference file runs on every backend and dtype kiln has
// (CPU; and CUDA when kiln is built with it and a GPU is visible), forward and backward against
// PyTorch's float64 results, and backward against central finite differences in float64.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kiln/core/tensor.h"

namespace kiln::test {

// Runs a kiln op on inputs (already on the test's device and dtype) with the case's params.
using OpRunner =
    std::function<std::vector<Tensor>(const std::vector<Tensor>& in, const nlohmann::json& params)>;

std::map<std::string, OpRunner>& op_runners();
struct RegisterOp {
  RegisterOp(const char* op, OpRunner r) { op_runners()[op] = std::move(r); }
};

struct OpCase {
  std::string name, op;
  nlohmann::json params;
  std::vector<Tensor> inputs;         // as PyTorch made them (f64 or integer)
  std::vector<Tensor> outputs, cots;  // cots[i] undefined for non-float outputs
  std::vector<Tensor> grads;          // undefined where no gradient is expected
  std::vector<bool> grad;
  bool fd = true;
};

struct Backend {
  Device device;
  DType dtype;
  double atol, rtol;  // tolerances against the float64 reference
  std::string name() const;
};

std::vector<Backend> test_backends();
const std::vector<OpCase>& op_cases();  // loaded once from KILN_OP_REFS

// Converts floating tensors to the backend's dtype and device; integer tensors keep their dtype.
Tensor to_backend(const Tensor& t, const Backend& b);

// Largest |got - want| - rtol*|want| over elements (<= atol passes); reports the worst index.
struct Diff {
  double worst = 0;
  int64_t index = -1;
  double got = 0, want = 0;
};
Diff compare(const Tensor& got, const Tensor& want, double rtol);

}  // namespace kiln::test
