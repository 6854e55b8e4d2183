#pragma once
// Module: a node of the model tree. It owns named parameters and named child modules, and names
// every parameter by its dotted path from the root, so a Decoder's names are exactly the tensor
// names of the Hugging Face checkpoint ("model.layers.0.self_attn.q_proj.weight").
//
// Parameters live in the modules' own Tensor members; the tree holds pointers to them, so a
// loader can replace a parameter (e.g. by a memory-mapped tensor) in place. Modules are neither
// copyable nor movable, which keeps those pointers valid.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kiln/core/rng.h"
#include "kiln/core/tensor.h"

namespace kiln::nn {

// How init_parameters() fills a parameter.
enum class Init : uint8_t { Normal, Ones, Zeros };

struct NamedParam {
  std::string name;
  Tensor* tensor;
  Init init;
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter below this module in registration order, names prefixed by `prefix`.
  std::vector<NamedParam> named_parameters(const std::string& prefix = "") const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;
  // Child modules by name (direct children only).
  const std::vector<std::pair<std::string, std::unique_ptr<Module>>>& children() const {
    return children_;
  }

  // Training mode (dropout, MoE capacity dropping) for this module and all below it.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  // Normal(0, std) weights, ones for norm scales, zeros for biases, in named_parameters() order,
  // each drawing from g in turn, so a seed gives the same model on every machine.
  void init_parameters(Generator& g, double std);

  // Moves every parameter below this module to `dev` (a copy; the slots then hold the moved
  // tensors, still requiring grad). Gradients are dropped.
  void to(Device dev);

 protected:
  // `slot` must be a member of the derived module; it is marked as requiring grad.
  void register_parameter(const std::string& name, Tensor* slot, Init init);
  template <class M>
  M* register_module(const std::string& name, std::unique_ptr<M> m) {
    M* raw = m.get();
    children_.emplace_back(name, std::move(m));
    return raw;
  }

 private:
  void collect(const std::string& prefix, std::vector<NamedParam>& out) const;

  std::vector<NamedParam> params_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  bool training_ = true;
};

// A list of modules named by index ("layers.0", "layers.1", ...).
template <class M>
class ModuleList : public Module {
 public:
  M* push_back(std::unique_ptr<M> m) {
    M* raw = register_module(std::to_string(items_.size()), std::move(m));
    items_.push_back(raw);
    return raw;
  }
  size_t size() const { return items_.size(); }
  M& operator[](size_t i) const { return *items_[i]; }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  std::vector<M*> items_;
};

}  // namespace kiln::nn
