#include "kiln/train/optimizer.h"

#include <cmath>

#include "kiln/autograd/grad_mode.h"
#include "kiln/ops/binary.h"
#include "kiln/ops/matmul.h"
#include "kiln/ops/optim.h"
#include "kiln/ops/reduce.h"
#include "kiln/ops/unary.h"

namespace kiln::train {

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (auto& p : g.params) p.set_grad(Tensor());
}

namespace {

Tensor zeros_like(const Tensor& p) {
  return Tensor::zeros(p.sizes(), DType::F32, p.device());
}

// Gradient of p as a contiguous f32 tensor (zeros when the parameter got none this step).
Tensor grad_of(const Tensor& p) {
  Tensor g = p.grad();
  if (!g.defined()) return zeros_like(p);
  return g.to(DType::F32).contiguous();
}

Tensor step_tensor(int64_t step) {
  return Tensor::from_vector<int64_t>({step}, {1});
}

class AdamW final : public Optimizer {
 public:
  AdamW(std::vector<ParamGroup> g, AdamWOptions o) : Optimizer(std::move(g)), o_(o) {
    for (auto& grp : groups_)
      for (auto& p : grp.params) {
        m_.push_back(zeros_like(p));
        v_.push_back(zeros_like(p));
      }
  }

  void step(double lr) override {
    NoGradGuard ng;
    ++t_;
    size_t k = 0;
    for (auto& grp : groups_)
      for (auto& p : grp.params) {
        ops::adamw_update(p, grad_of(p), m_[k], v_[k],
                          {lr * grp.lr_scale, o_.beta1, o_.beta2, o_.eps, grp.weight_decay, t_});
        ++k;
      }
  }

  std::map<std::string, Tensor> state() const override {
    std::map<std::string, Tensor> s{{"adamw.step", step_tensor(t_)}};
    size_t k = 0;
    for (auto& grp : groups_)
      for (auto& n : grp.names) {
        s["adamw.m." + n] = m_[k];
        s["adamw.v." + n] = v_[k];
        ++k;
      }
    return s;
  }

  void load_state(const std::map<std::string, Tensor>& s) override {
    auto get = [&](const std::string& key, const Tensor& like) {
      auto it = s.find(key);
      KILN_REQUIRE(it != s.end(), "optimizer state: missing '", key, "'");
      KILN_REQUIRE(it->second.sizes() == like.sizes(), "optimizer state: '", key, "' has shape ",
                   shape_str(it->second.sizes()), ", expected ", shape_str(like.sizes()));
      like.copy_(it->second);
    };
    Tensor st = Tensor::zeros({1}, DType::I64);
    get("adamw.step", st);
    t_ = st.data<int64_t>()[0];
    size_t k = 0;
    for (auto& grp : groups_)
      for (auto& n : grp.names) {
        get("adamw.m." + n, m_[k]);
        get("adamw.v." + n, v_[k]);
        ++k;
      }
  }

 private:
  AdamWOptions o_;
  std::vector<Tensor> m_, v_;
  int64_t t_ = 0;
};

class SGD final : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> g, SGDOptions o) : Optimizer(std::move(g)), o_(o) {
    for (auto& grp : groups_)
      for (auto& p : grp.params) buf_.push_back(zeros_like(p));
  }
  void step(double lr) override {
    NoGradGuard ng;
    size_t k = 0;
    for (auto& grp : groups_)
      for (auto& p : grp.params)
        ops::momentum_update(p, grad_of(p), buf_[k++], lr * grp.lr_scale, o_.momentum, o_.nesterov,
                             grp.weight_decay);
  }
  std::map<std::string, Tensor> state() const override {
    std::map<std::string, Tensor> s;
    size_t k = 0;
    for (auto& grp : groups_)
      for (auto& n : grp.names) s["sgd.momentum." + n] = buf_[k++];
    return s;
  }
  void load_state(const std::map<std::string, Tensor>& s) override {
    size_t k = 0;
    for (auto& grp : groups_)
      for (auto& n : grp.names) {
        auto it = s.find("sgd.momentum." + n);
        KILN_REQUIRE(it != s.end(), "optimizer state: missing 'sgd.momentum.", n, "'");
        buf_[k++].copy_(it->second);
      }
  }

 private:
  SGDOptions o_;
  std::vector<Tensor> buf_;
};

// Quintic Newton-Schulz iteration towards the nearest semi-orthogonal matrix (Muon's coefficients,
// chosen to maximize the slope at zero rather than to converge exactly).
Tensor orthogonalize(const Tensor& g, int steps) {
  const double a = 3.4445, b = -4.7750, c = 2.0315;
  bool tall = g.size(0) > g.size(1);
  Tensor x = tall ? g.transpose(0, 1).contiguous() : g.contiguous();
  double norm = std::sqrt(ops::sum(ops::mul(x, x)).item());
  x = ops::scale(x, 1.0 / (norm + 1e-7));
  for (int i = 0; i < steps; ++i) {
    Tensor A = ops::matmul(x, x.transpose(0, 1));
    Tensor B = ops::add(ops::scale(A, b), ops::scale(ops::matmul(A, A), c));
    x = ops::add(ops::scale(x, a), ops::matmul(B, x));
  }
  return tall ? x.transpose(0, 1).contiguous() : x;
}

class Muon final : public Optimizer {
 public:
  Muon(std::vector<ParamGroup> matrices, std::vector<ParamGroup> rest, MuonOptions o)
      : Optimizer(std::move(matrices)), o_(o), adamw_(std::move(rest), o.adamw) {
    for (auto& grp : groups_)
      for (auto& p : grp.params) {
        KILN_REQUIRE(p.dim() == 2, "muon: parameter of shape ", shape_str(p.sizes()),
                     " is not a matrix; put it in the AdamW groups");
        buf_.push_back(zeros_like(p));
      }
  }
  void step(double lr) override {
    NoGradGuard ng;
    size_t k = 0;
    for (auto& grp : groups_)
      for (auto& p : grp.params) {
        Tensor g = grad_of(p);
        Tensor& buf = buf_[k++];
        // As the reference Muon: buf = lerp(buf, g, 1-mu); nesterov uses lerp(g, buf, mu).
        double mu = o_.momentum;
        buf.copy_(ops::add(ops::scale(buf, mu), ops::scale(g, 1.0 - mu)));
        Tensor u = o_.nesterov ? ops::add(ops::scale(g, 1.0 - mu), ops::scale(buf, mu)) : buf;
        Tensor o = orthogonalize(u, o_.ns_steps);
        double s = std::sqrt(std::max(1.0, double(p.size(0)) / double(p.size(1))));
        double lr_g = lr * grp.lr_scale;
        p.copy_(ops::sub(ops::scale(p, 1.0 - lr_g * grp.weight_decay), ops::scale(o, lr_g * s)));
      }
    adamw_.step(lr);
  }
  std::map<std::string, Tensor> state() const override {
    auto s = adamw_.state();
    size_t k = 0;
    for (auto& grp : groups_)
      for (auto& n : grp.names) s["muon.momentum." + n] = buf_[k++];
    return s;
  }
  void load_state(const std::map<std::string, Tensor>& s) override {
    adamw_.load_state(s);
    size_t k = 0;
    for (auto& grp : groups_)
      for (auto& n : grp.names) {
        auto it = s.find("muon.momentum." + n);
        KILN_REQUIRE(it != s.end(), "optimizer state: missing 'muon.momentum.", n, "'");
        buf_[k++].copy_(it->second);
      }
  }

 private:
  MuonOptions o_;
  AdamW adamw_;
  std::vector<Tensor> buf_;
};

}  // namespace

std::unique_ptr<Optimizer> make_adamw(std::vector<ParamGroup> groups, AdamWOptions o) {
  return std::make_unique<AdamW>(std::move(groups), o);
}
std::unique_ptr<Optimizer> make_sgd(std::vector<ParamGroup> groups, SGDOptions o) {
  return std::make_unique<SGD>(std::move(groups), o);
}
std::unique_ptr<Optimizer> make_muon(std::vector<ParamGroup> matrix_groups,
                                     std::vector<ParamGroup> adamw_groups, MuonOptions o) {
  return std::make_unique<Muon>(std::move(matrix_groups), std::move(adamw_groups), o);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard ng;
  // The squares are summed where the gradients live and read back once: one host sync per
  // step, not one per parameter (each is a GPU round trip under --device cuda).
  Tensor total;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    Tensor g32 = g.to(DType::F32);
    Tensor sq = ops::sum(ops::mul(g32, g32)).to(DType::F64);
    total = total.defined() ? ops::add(total, sq) : sq;
  }
  double norm = total.defined() ? std::sqrt(total.item()) : 0.0;
  if (max_norm > 0 && norm > max_norm) {
    double s = max_norm / (norm + 1e-6);
    for (const Tensor& p : params)
      if (p.grad().defined()) p.grad().copy_(ops::scale(p.grad(), s));
  }
  return norm;
}

}  // namespace kiln::train
