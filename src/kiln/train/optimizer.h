#pragma once
// Optimizers over parameter groups. Parameters are f32 tensors that require grad (the master
// weights); each step reads p.grad() and updates p in place without recording gradients.
// Every piece of optimizer state is a named tensor, so checkpoints save and restore it exactly.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/core/tensor.h"

namespace kiln::train {

struct ParamGroup {
  std::vector<std::string> names;  // for checkpoints and logs
  std::vector<Tensor> params;
  double lr_scale = 1.0;  // the schedule's lr times this
  double weight_decay = 0.0;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update at learning rate lr (the schedule's value for this step).
  virtual void step(double lr) = 0;
  void zero_grad();
  // Named state tensors (moments, momentum buffers, step count) for checkpoints.
  virtual std::map<std::string, Tensor> state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& s) = 0;
  const std::vector<ParamGroup>& groups() const { return groups_; }

 protected:
  explicit Optimizer(std::vector<ParamGroup> g) : groups_(std::move(g)) {}
  std::vector<ParamGroup> groups_;
};

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
};
std::unique_ptr<Optimizer> make_adamw(std::vector<ParamGroup> groups, AdamWOptions o = {});

struct SGDOptions {
  double momentum = 0.9;
  bool nesterov = false;
};
std::unique_ptr<Optimizer> make_sgd(std::vector<ParamGroup> groups, SGDOptions o = {});

// Muon (Jordan et al. 2024): momentum, then the update of each 2-D matrix is orthogonalized by a
// quintic Newton-Schulz iteration and scaled by sqrt(max(1, rows/cols)). Parameters that are not
// matrices (norms, biases) and the embeddings belong in an AdamW group instead: make_muon takes
// the matrix groups and an AdamW for the rest.
struct MuonOptions {
  double momentum = 0.95;
  bool nesterov = true;
  int ns_steps = 5;
  AdamWOptions adamw;
};
std::unique_ptr<Optimizer> make_muon(std::vector<ParamGroup> matrix_groups,
                                     std::vector<ParamGroup> adamw_groups, MuonOptions o = {});

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before
// clipping (max_norm <= 0 only measures).
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace kiln::train
