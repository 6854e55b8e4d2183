#include "harness.h"

#include <cmath>

#include "kiln/io/safetensors.h"

namespace kiln::test {

std::map<std::string, OpRunner>& op_runners() {
  static std::map<std::string, OpRunner> m;
  return m;
}

std::string Backend::name() const {
  std::string d = device.str();
  for (char& c : d)
    if (c == ':') c = '_';
  return d + "_" + dtype_name(dtype);
}

std::vector<Backend> test_backends() {
  std::vector<Backend> b = {
      {Device::cpu(), DType::F64, 1e-10, 1e-9},
      {Device::cpu(), DType::F32, 2e-5, 2e-4},
      {Device::cpu(), DType::BF16, 3e-2, 3e-2},
  };
  // The CUDA backend, where built and a GPU is visible, at the CPU's tolerances per dtype: its
  // kernels sum in other orders (tree reductions, atomics) but in the same precision.
  if (cuda_device_count() > 0) {
    b.push_back({Device::cuda(), DType::F64, 1e-10, 1e-9});
    b.push_back({Device::cuda(), DType::F32, 2e-5, 2e-4});
    b.push_back({Device::cuda(), DType::BF16, 3e-2, 3e-2});
  }
  return b;
}

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = [] {
    std::vector<OpCase> out;
    io::SafetensorsFile f(KILN_OP_REFS);
    auto get = [&](const std::string& n) { return f.contains(n) ? f.get(n).clone() : Tensor(); };
    for (const auto& [name, js] : f.metadata()) {
      nlohmann::json m = nlohmann::json::parse(js);
      OpCase c;
      c.name = name;
      c.op = m["op"];
      c.params = m["params"];
      c.fd = m["fd"];
      for (bool g : m["grad"]) c.grad.push_back(g);
      for (int i = 0; i < m["n_in"].get<int>(); ++i) {
        c.inputs.push_back(get(name + "/in" + std::to_string(i)));
        c.grads.push_back(get(name + "/grad" + std::to_string(i)));
      }
      for (int i = 0; i < m["n_out"].get<int>(); ++i) {
        c.outputs.push_back(get(name + "/out" + std::to_string(i)));
        c.cots.push_back(get(name + "/cot" + std::to_string(i)));
      }
      out.push_back(std::move(c));
    }
    return out;
  }();
  return cases;
}

Tensor to_backend(const Tensor& t, const Backend& b) {
  if (!t.defined()) return t;
  Tensor x = is_float(t.dtype()) ? t.to(b.dtype) : t;
  return x.to(b.device);
}

Diff compare(const Tensor& got, const Tensor& want, double rtol) {
  Diff d;
  std::vector<double> g = got.to_vector<double>(), w = want.to_vector<double>();
  for (size_t i = 0; i < g.size(); ++i) {
    double e = std::isnan(g[i]) != std::isnan(w[i]) ? INFINITY
               : std::isnan(g[i])                   ? 0.0
                                                    : std::abs(g[i] - w[i]) - rtol * std::abs(w[i]);
    if (e > d.worst || d.index < 0) d = {e, int64_t(i), g[i], w[i]};
  }
  return d;
}

}  // namespace kiln::test
