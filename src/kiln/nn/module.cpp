#include "kiln/nn/module.h"

namespace kiln::nn {

void Module::register_parameter(const std::string& name, Tensor* slot, Init init) {
  KILN_CHECK(slot && slot->defined(), "register_parameter(", name, ") of an undefined tensor");
  slot->set_requires_grad(true);
  params_.push_back({name, slot, init});
}

void Module::collect(const std::string& prefix, std::vector<NamedParam>& out) const {
  for (const NamedParam& p : params_) out.push_back({prefix + p.name, p.tensor, p.init});
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<NamedParam> Module::named_parameters(const std::string& prefix) const {
  std::vector<NamedParam> out;
  collect(prefix, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (const NamedParam& p : named_parameters()) out.push_back(*p.tensor);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const NamedParam& p : named_parameters()) n += p.tensor->numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device dev) {
  for (const NamedParam& p : named_parameters()) {
    if (p.tensor->device() == dev) continue;
    bool grad = p.tensor->requires_grad();
    *p.tensor = p.tensor->detach().to(dev);
    p.tensor->set_requires_grad(grad);
  }
}

void Module::init_parameters(Generator& g, double std) {
  for (const NamedParam& p : named_parameters()) {
    switch (p.init) {
      case Init::Normal:
        normal_(*p.tensor, 0.0, std, g);
        break;
      case Init::Ones:
        p.tensor->fill_(1.0);
        break;
      case Init::Zeros:
        p.tensor->zero_();
        break;
    }
  }
}

}  // namespace kiln::nn
