#pragma once
// Puts a model in eval mode (no dropout) for a scope and restores its mode after, also when the
// scope is left by an exception.
#include "kiln/models/decoder.h"

namespace kiln::infer {

class EvalModeGuard {
 public:
  explicit EvalModeGuard(models::Decoder& m) : m_(m), was_training_(m.training()) { m.eval(); }
  ~EvalModeGuard() { m_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  models::Decoder& m_;
  bool was_training_;
};

}  // namespace kiln::infer
