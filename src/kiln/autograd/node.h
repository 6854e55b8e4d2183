#pragma once
// The tape. Every differentiable op that sees an input requiring grad creates a Node: it holds the
// function that maps output gradients to input gradients (closing over what the op saved) and an
// edge per input to the node that produced it, or to the leaf whose .grad it accumulates into.
//
// A saved output must be saved detached (out.detach()) so that the node does not own itself.
#include <functional>
#include <memory>
#include <vector>

#include "kiln/core/tensor.h"

namespace kiln::autograd {

// Given the gradient of each output (undefined where an output got none), returns the gradient of
// each input in order (undefined where an input needs none).
using BackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& grad_outputs)>;

struct Edge {
  std::shared_ptr<Node> node;  // producer of the input, or null for a leaf
  int output_nr = 0;
  Tensor leaf;  // set for leaves that require grad
  bool needs_grad() const { return node || leaf.defined(); }
};

class Node {
 public:
  Node(const char* name, std::vector<Edge> next, int n_outputs, BackwardFn fn)
      : name_(name), next_(std::move(next)), n_outputs_(n_outputs), fn_(std::move(fn)) {}
  const char* name() const { return name_; }
  const std::vector<Edge>& next() const { return next_; }
  int n_outputs() const { return n_outputs_; }
  // Runs backward once and releases what the node saved.
  std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs);

 private:
  const char* name_;
  std::vector<Edge> next_;
  int n_outputs_;
  BackwardFn fn_;
};

// True when grad mode is on and any input requires grad (directly or through history).
bool needs_grad(const std::vector<Tensor>& inputs);

// Attaches a node to `outputs` (which become non-leaf tensors requiring grad). Call only when
// needs_grad(inputs). Returns the outputs for convenience.
std::vector<Tensor> record(const char* name, const std::vector<Tensor>& inputs,
                           std::vector<Tensor> outputs, BackwardFn fn);
Tensor record(const char* name, const std::vector<Tensor>& inputs, Tensor output, BackwardFn fn);

// Runs the backward pass from `root` (gradient `grad`, ones for a scalar when undefined) and
// accumulates into the .grad of every leaf that requires grad. The graph is freed as it goes.
void backward(const Tensor& root, const Tensor& grad = Tensor());

}  // namespace kiln::autograd
