#include "kiln/autograd/node.h"

#include <unordered_map>
#include <unordered_set>

#include "kiln/autograd/grad_mode.h"
#include "kiln/ops/binary.h"

namespace kiln::autograd {

std::vector<Tensor> Node::apply(const std::vector<Tensor>& grad_outputs) {
  KILN_CHECK(fn_, "node '", name_, "' ran backward twice");
  std::vector<Tensor> g = fn_(grad_outputs);
  fn_ = nullptr;  // frees saved tensors
  KILN_CHECK(g.size() == next_.size(), "node '", name_, "' returned ", g.size(), " gradients for ",
             next_.size(), " inputs");
  return g;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

std::vector<Tensor> record(const char* name, const std::vector<Tensor>& inputs,
                           std::vector<Tensor> outputs, BackwardFn fn) {
  std::vector<Edge> next;
  next.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    Edge e;
    if (t.defined() && t.requires_grad()) {
      if (t.grad_fn()) {
        e.node = t.grad_fn();
        e.output_nr = t.impl().autograd->output_nr;
      } else {
        e.leaf = t;
      }
    }
    next.push_back(std::move(e));
  }
  auto node = std::make_shared<Node>(name, std::move(next), int(outputs.size()), std::move(fn));
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].defined()) continue;
    // A fresh impl per output: an op may return a view of its input, whose history must stay.
    outputs[i] = outputs[i].detach();
    AutogradMeta& m = outputs[i].autograd_meta();
    m.requires_grad = true;
    m.grad_fn = node;
    m.output_nr = int(i);
  }
  return outputs;
}

Tensor record(const char* name, const std::vector<Tensor>& inputs, Tensor output, BackwardFn fn) {
  return record(name, inputs, std::vector<Tensor>{std::move(output)}, std::move(fn))[0];
}

namespace {

void accumulate(Tensor& slot, const Tensor& g) {
  if (!slot.defined()) {
    slot = g;
  } else {
    slot = ops::add(slot, g);
  }
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad_in) {
  KILN_REQUIRE(root.requires_grad(), "backward: the tensor does not require grad");
  Tensor grad = grad_in;
  if (!grad.defined()) {
    KILN_REQUIRE(root.numel() == 1, "backward: a gradient is needed for a non-scalar of shape ",
                 shape_str(root.sizes()));
    grad = Tensor::ones(root.sizes(), root.dtype(), root.device());
  }
  KILN_REQUIRE(grad.sizes() == root.sizes(), "backward: gradient shape ", shape_str(grad.sizes()),
               " differs from tensor shape ", shape_str(root.sizes()));
  NoGradGuard no_grad;  // backward functions do not record (no double backward)

  if (!root.grad_fn()) {  // a leaf
    Tensor g = root.grad();
    accumulate(g, grad);
    root.set_grad(g);
    return;
  }
  // Topological order by iterative DFS (graphs of deep models overflow a recursive one).
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack{{root.grad_fn().get(), 0}};
  seen.insert(root.grad_fn().get());
  while (!stack.empty()) {
    auto& [n, i] = stack.back();
    if (i < n->next().size()) {
      Node* c = n->next()[i++].node.get();
      if (c && seen.insert(c).second) stack.push_back({c, 0});
    } else {
      order.push_back(n);
      stack.pop_back();
    }
  }
  std::unordered_map<Node*, std::vector<Tensor>> pending;
  pending[root.grad_fn().get()].resize(size_t(root.grad_fn()->n_outputs()));
  pending[root.grad_fn().get()][size_t(root.impl().autograd->output_nr)] = grad;
  // Keep nodes alive while we walk: edges hold the only references to inner nodes.
  std::vector<std::shared_ptr<Node>> keep{root.grad_fn()};
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = *it;
    auto p = pending.find(n);
    if (p == pending.end()) continue;
    std::vector<Tensor> gouts = std::move(p->second);
    pending.erase(p);
    gouts.resize(size_t(n->n_outputs()));
    std::vector<Tensor> gins = n->apply(gouts);
    for (size_t k = 0; k < gins.size(); ++k) {
      const Edge& e = n->next()[k];
      if (!gins[k].defined() || !e.needs_grad()) continue;
      if (e.node) {
        keep.push_back(e.node);
        auto& slot = pending[e.node.get()];
        slot.resize(size_t(e.node->n_outputs()));
        accumulate(slot[size_t(e.output_nr)], gins[k]);
      } else {
        KILN_CHECK(gins[k].sizes() == e.leaf.sizes(), "node '", n->name(), "' gave grad ",
                   shape_str(gins[k].sizes()), " for leaf ", shape_str(e.leaf.sizes()));
        Tensor g = e.leaf.grad();
        if (g.defined()) {
          ops::add_(g, gins[k]);
        } else {
          e.leaf.set_grad(gins[k].clone());  // own copy: grads may alias each other
        }
      }
    }
  }
}

}  // namespace kiln::autograd
