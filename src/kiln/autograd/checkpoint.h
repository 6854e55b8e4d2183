#pragma once
// Gradient checkpointing: run a piece of the forward pass without recording the tape, keep only its
// inputs, and recompute it (with the tape on) when backward reaches it. Activation memory of that
// piece drops to its inputs at the cost of one more forward.
//
// `f` must be a pure function of its inputs and of parameters (leaves): it runs twice and must give
// the same result both times (no dropout with a fresh mask, no state updated per call).
#include <functional>
#include <vector>

#include "kiln/core/tensor.h"

namespace kiln {

using CheckpointFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

// Returns f(inputs). With grad mode on, the outputs carry one node whose backward recomputes f and
// backpropagates through it; gradients reach parameters used by f and the inputs that require grad.
std::vector<Tensor> checkpoint(const char* name, const CheckpointFn& f,
                               const std::vector<Tensor>& inputs);

// One input, one output.
Tensor checkpoint(const char* name, const std::function<Tensor(const Tensor&)>& f, const Tensor& x);

}  // namespace kiln
