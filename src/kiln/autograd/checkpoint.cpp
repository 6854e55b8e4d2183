#include "kiln/autograd/checkpoint.h"

#include "kiln/autograd/functions.h"
#include "kiln/autograd/grad_mode.h"
#include "kiln/autograd/node.h"

namespace kiln {

std::vector<Tensor> checkpoint(const char* name, const CheckpointFn& f,
                               const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return f(inputs);
  std::vector<Tensor> outs;
  {
    NoGradGuard ng;
    outs = f(inputs);
  }
  std::vector<Tensor> saved;
  for (const Tensor& t : inputs) saved.push_back(t.defined() ? t.detach() : Tensor());
  std::vector<bool> wants;
  for (const Tensor& t : inputs) wants.push_back(t.defined() && t.requires_grad());
  // The node is recorded even when no input requires grad: parameters inside f still do.
  // record() needs an input edge to exist only for inputs that require grad.
  return autograd::record(name, inputs, std::move(outs),
                          [f, saved, wants](const std::vector<Tensor>& grads) {
                            EnableGradGuard on;
                            std::vector<Tensor> in;
                            for (size_t i = 0; i < saved.size(); ++i) {
                              Tensor t = saved[i].defined() ? saved[i].detach() : Tensor();
                              if (wants[i]) t.set_requires_grad(true);
                              in.push_back(t);
                            }
                            std::vector<Tensor> out = f(in);
                            // Backpropagates every output at once through the scalar
                            // sum_i <out_i, grad_i>, whose gradient w.r.t. out_i is grad_i.
                            Tensor root;
                            for (size_t i = 0; i < out.size(); ++i) {
                              if (!grads[i].defined() || !out[i].requires_grad()) continue;
                              Tensor term = sum(out[i] * grads[i]);
                              root = root.defined() ? root + term : term;
                            }
                            if (root.defined()) autograd::backward(root);
                            std::vector<Tensor> gin;
                            for (size_t i = 0; i < in.size(); ++i)
                              gin.push_back(wants[i] ? in[i].grad() : Tensor());
                            return gin;
                          });
}

Tensor checkpoint(const char* name, const std::function<Tensor(const Tensor&)>& f,
                  const Tensor& x) {
  return checkpoint(
      name, [f](const std::vector<Tensor>& in) { return std::vector<Tensor>{f(in[0])}; }, {x})[0];
}

}  // namespace kiln
