#include <cmath>

#include "kiln/core/thread_pool.h"
#include "kiln/ops/optim.h"

namespace kiln::ops::cpu {

void adamw_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                  const AdamWStep& s) {
  float* pp = p.data<float>();
  const float* gp = g.data<float>();
  float* mp = m.data<float>();
  float* vp = v.data<float>();
  const float b1 = float(s.beta1), b2 = float(s.beta2), eps = float(s.eps);
  const float decay = float(1.0 - s.lr * s.weight_decay);
  const float step_size = float(s.lr / (1.0 - std::pow(s.beta1, double(s.step))));
  const float inv_bc2_sqrt = float(1.0 / std::sqrt(1.0 - std::pow(s.beta2, double(s.step))));
  parallel_for(p.numel(), 8192, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float gi = gp[i];
      float mi = b1 * mp[i] + (1.f - b1) * gi;
      float vi = b2 * vp[i] + (1.f - b2) * gi * gi;
      mp[i] = mi;
      vp[i] = vi;
      pp[i] = pp[i] * decay - step_size * mi / (std::sqrt(vi) * inv_bc2_sqrt + eps);
    }
  });
}

void momentum_update(const Tensor& p, const Tensor& g, const Tensor& buf, double lr,
                     double momentum, bool nesterov, double weight_decay) {
  float* pp = p.data<float>();
  const float* gp = g.data<float>();
  float* bp = buf.data<float>();
  const float mu = float(momentum), lrf = float(lr), decay = float(1.0 - lr * weight_decay);
  parallel_for(p.numel(), 8192, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float bi = mu * bp[i] + gp[i];
      bp[i] = bi;
      pp[i] = pp[i] * decay - lrf * (nesterov ? gp[i] + mu * bi : bi);
    }
  });
}

}  // namespace kiln::ops::cpu
