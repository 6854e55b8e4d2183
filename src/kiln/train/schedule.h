#pragma once
// Learning-rate schedules: lr(step) for step in [0, total). Every schedule is a pure function of
// the step, so a resumed run gets exactly the rates of an uninterrupted one.
#include <cstdint>
#include <string>

namespace kiln::train {

struct ScheduleConfig {
  std::string kind = "cosine";  // cosine | wsd | linear | constant | one_cycle | cosine_restarts
  double lr = 1e-3;             // peak
  double min_lr = 0.0;          // floor for cosine/wsd/linear/restarts
  int64_t warmup = 0;  // linear warmup steps from 0 (cosine, wsd, linear, constant, restarts)
  int64_t total = 1;   // total steps
  double decay_fraction = 0.2;  // wsd: the last fraction of steps decays linearly to min_lr
  int64_t cycle = 0;            // cosine_restarts: steps per cycle (after warmup)
  double pct_start = 0.3;       // one_cycle: fraction of steps rising to lr
  double div_factor = 25.0;     // one_cycle: start lr = lr / div_factor
  double final_div = 1e4;       // one_cycle: end lr = start / final_div
};

// Validates the config; throws kiln::Error naming the bad field.
void validate(const ScheduleConfig& c);
double learning_rate(const ScheduleConfig& c, int64_t step);

}  // namespace kiln::train
