#include "kiln/train/schedule.h"

#include <cmath>

#include "kiln/core/error.h"

namespace kiln::train {

void validate(const ScheduleConfig& c) {
  static const char* kinds[] = {"cosine",   "wsd",       "linear",
                                "constant", "one_cycle", "cosine_restarts"};
  bool known = false;
  for (const char* k : kinds) known |= c.kind == k;
  KILN_REQUIRE(known, "schedule: unknown kind '", c.kind,
               "' (expected cosine, wsd, linear, constant, one_cycle or cosine_restarts)");
  KILN_REQUIRE(c.lr > 0, "schedule: lr must be positive, got ", c.lr);
  KILN_REQUIRE(c.min_lr >= 0 && c.min_lr <= c.lr, "schedule: min_lr must be in [0, lr], got ",
               c.min_lr);
  KILN_REQUIRE(c.total >= 1, "schedule: total steps must be >= 1, got ", c.total);
  KILN_REQUIRE(c.warmup >= 0 && c.warmup <= c.total, "schedule: warmup must be in [0, total], got ",
               c.warmup);
  KILN_REQUIRE(c.decay_fraction >= 0 && c.decay_fraction <= 1,
               "schedule: decay_fraction must be in [0, 1], got ", c.decay_fraction);
  KILN_REQUIRE(c.kind != "cosine_restarts" || c.cycle >= 1,
               "schedule: cosine_restarts needs cycle >= 1");
  KILN_REQUIRE(c.pct_start > 0 && c.pct_start < 1, "schedule: pct_start must be in (0, 1)");
}

double learning_rate(const ScheduleConfig& c, int64_t step) {
  const double pi = 3.14159265358979323846;
  if (c.kind == "one_cycle") {
    // PyTorch OneCycleLR with cosine annealing and three phases collapsed to two.
    double start = c.lr / c.div_factor, end = start / c.final_div;
    double up = c.pct_start * double(c.total) - 1.0;
    double s = double(step);
    auto cos_anneal = [&](double a, double b, double frac) {
      return b + (a - b) / 2.0 * (1.0 + std::cos(pi * frac));
    };
    if (s <= up) return cos_anneal(start, c.lr, up > 0 ? s / up : 1.0);
    double down = double(c.total) - 1.0 - up;
    return cos_anneal(c.lr, end, down > 0 ? std::min(1.0, (s - up) / down) : 1.0);
  }
  if (step < c.warmup) return c.lr * double(step + 1) / double(c.warmup);
  double s = double(step - c.warmup), n = double(std::max<int64_t>(1, c.total - c.warmup));
  double frac = std::min(1.0, s / n);
  if (c.kind == "constant") return c.lr;
  if (c.kind == "linear") return c.lr + (c.min_lr - c.lr) * frac;
  if (c.kind == "cosine") return c.min_lr + (c.lr - c.min_lr) * 0.5 * (1.0 + std::cos(pi * frac));
  if (c.kind == "wsd") {
    double stable_end = 1.0 - c.decay_fraction;
    if (frac <= stable_end || c.decay_fraction == 0) return c.lr;
    return c.lr + (c.min_lr - c.lr) * (frac - stable_end) / c.decay_fraction;
  }
  // cosine_restarts (SGDR with equal cycles)
  double t = std::fmod(s, double(c.cycle)) / double(c.cycle);
  return c.min_lr + (c.lr - c.min_lr) * 0.5 * (1.0 + std::cos(pi * t));
}

}  // namespace kiln::train
