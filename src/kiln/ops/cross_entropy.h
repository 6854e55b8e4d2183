#pragma once
// Cross-entropy of logits [N, V] against class targets [N], fused: one pass per row finds its max
// and log-sum-exp, and no [N, V] log-probabilities are ever stored. The loss is the mean over rows
// whose target is not ignore_index of, as torch.nn.functional.cross_entropy:
//   (1 - eps) * (lse - x[target]) + eps * (lse - mean_j x[j])        (label smoothing eps)
// plus z_loss * lse^2 (the PaLM z-loss). With focal_gamma > 0 the target term becomes the focal
// loss (Lin et al. 2017) -(1 - p_t)^gamma * log p_t, which down-weights tokens the model already
// predicts well; it excludes label smoothing. With every target ignored the loss and its gradient
// are 0 (torch gives NaN). Computed in f32 (f64 for f64 logits).
#include "kiln/core/tensor.h"
#include "kiln/ops/kernel.h"

namespace kiln::ops {

struct CrossEntropyParams {
  int64_t ignore_index = -100;
  double label_smoothing = 0;
  double z_loss = 0;
  double focal_gamma = 0;
};

struct CrossEntropyOut {
  Tensor loss;          // 0-d, logits' dtype
  Tensor lse;           // [N], f32 (f64 for f64 logits); 0 on ignored rows
  int64_t n_valid = 0;  // rows counted in the mean
};

// targets i32 or i64; a target that is neither ignore_index nor in [0, V) is an error.
CrossEntropyOut cross_entropy(const Tensor& logits, const Tensor& targets,
                              const CrossEntropyParams& p = {});
// dloss: the 0-d gradient of the loss. Returns dlogits [N, V].
Tensor cross_entropy_backward(const Tensor& dloss, const Tensor& logits, const Tensor& targets,
                              const CrossEntropyOut& fwd, const CrossEntropyParams& p = {});

// Kernels: logits [N, V] with unit stride in V (any row stride), targets contiguous and checked,
// n_valid >= 1; dlogits contiguous.
using CrossEntropyFn = void (*)(const Tensor& logits, const Tensor& targets,
                                const CrossEntropyParams& p, int64_t n_valid, const Tensor& loss,
                                const Tensor& lse);
using CrossEntropyBackwardFn = void (*)(const Tensor& dloss, const Tensor& logits,
                                        const Tensor& targets, const Tensor& lse,
                                        const CrossEntropyParams& p, int64_t n_valid,
                                        const Tensor& dlogits);
extern Kernel<CrossEntropyFn> cross_entropy_kernel;
extern Kernel<CrossEntropyBackwardFn> cross_entropy_backward_kernel;

namespace cpu {
void cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyParams& p,
                   int64_t n_valid, const Tensor& loss, const Tensor& lse);
void cross_entropy_backward(const Tensor& dloss, const Tensor& logits, const Tensor& targets,
                            const Tensor& lse, const CrossEntropyParams& p, int64_t n_valid,
                            const Tensor& dlogits);
}  // namespace cpu

}  // namespace kiln::ops
