#pragma once
// What /metrics reports, in Prometheus' text format: request and token counters, queue depth,
// batch size, KV-cache use, and latency histograms. Updated from the HTTP threads; the
// scheduler's own gauges are read from SchedulerStats when the page is rendered.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kiln/serve/scheduler.h"

namespace kiln::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double x);
  // Lines for `name` (with _bucket, _sum, _count).
  std::string render(const std::string& name, const std::string& help) const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<int64_t> counts_;  // per bucket (not cumulative); last = +Inf
  double sum_ = 0;
  int64_t n_ = 0;
};

class Metrics {
 public:
  Metrics();
  // One finished HTTP request of `endpoint` with its status.
  void request(const std::string& endpoint, int status);
  Histogram time_to_first_token, request_latency, time_per_token;
  std::string render(const SchedulerStats& s) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
};

}  // namespace kiln::serve
