#pragma once
// Whether ops record the tape on this thread. Inference runs under NoGradGuard and pays nothing.
namespace kiln {

bool grad_enabled();
void set_grad_enabled(bool on);

// Sets grad mode for a scope and restores the previous mode on exit.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool on) : prev_(grad_enabled()) { set_grad_enabled(on); }
  ~GradModeGuard() { set_grad_enabled(prev_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool prev_;
};

struct NoGradGuard : GradModeGuard {
  NoGradGuard() : GradModeGuard(false) {}
};

// Turns recording back on inside a no-grad region (gradient checkpointing recomputes a forward
// with the tape on while backward runs under NoGradGuard).
struct EnableGradGuard : GradModeGuard {
  EnableGradGuard() : GradModeGuard(true) {}
};

}  // namespace kiln
