#include "kiln/serve/metrics.h"

#include <sstream>

namespace kiln::serve {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double x) {
  std::lock_guard lk(mu_);
  size_t i = 0;
  while (i < bounds_.size() && x > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += x;
  ++n_;
}

std::string Histogram::render(const std::string& name, const std::string& help) const {
  std::lock_guard lk(mu_);
  std::ostringstream o;
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
  int64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    o << name << "_bucket{le=\"" << bounds_[i] << "\"} " << cum << "\n";
  }
  o << name << "_bucket{le=\"+Inf\"} " << n_ << "\n";
  o << name << "_sum " << sum_ << "\n" << name << "_count " << n_ << "\n";
  return o.str();
}

namespace {
std::vector<double> seconds_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}
}  // namespace

Metrics::Metrics()
    : time_to_first_token(seconds_buckets()),
      request_latency(seconds_buckets()),
      time_per_token({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {}

void Metrics::request(const std::string& endpoint, int status) {
  std::lock_guard lk(mu_);
  ++requests_[{endpoint, status}];
}

std::string Metrics::render(const SchedulerStats& s) const {
  std::ostringstream o;
  auto gauge = [&](const char* name, const char* type, const char* help, double v) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
      << name << " " << v << "\n";
  };
  {
    std::lock_guard lk(mu_);
    o << "# HELP kiln_requests_total HTTP requests by endpoint and status.\n"
      << "# TYPE kiln_requests_total counter\n";
    for (const auto& [k, n] : requests_)
      o << "kiln_requests_total{endpoint=\"" << k.first << "\",status=\"" << k.second << "\"} " << n
        << "\n";
  }
  gauge("kiln_prompt_tokens_total", "counter", "Prompt tokens fed to the model.",
        double(s.prompt_tokens));
  gauge("kiln_generated_tokens_total", "counter", "Tokens generated.", double(s.generated_tokens));
  gauge("kiln_prefix_cache_hit_tokens_total", "counter",
        "Prompt tokens whose KV blocks came from the prefix cache.", double(s.prefix_hit_tokens));
  gauge("kiln_queue_depth", "gauge", "Sequences waiting for a batch slot.", double(s.waiting));
  gauge("kiln_running_sequences", "gauge", "Sequences in the running batch.", double(s.running));
  gauge("kiln_decode_steps_total", "counter", "Batched decode steps run.", double(s.steps));
  gauge("kiln_decode_rows_total", "counter",
        "Sequences summed over decode steps (divided by steps: the mean batch size).",
        double(s.batch_rows));
  gauge("kiln_kv_cache_blocks_used", "gauge", "KV-cache blocks in use.", double(s.kv_blocks_used));
  gauge("kiln_kv_cache_blocks_total", "gauge", "KV-cache blocks allocated.",
        double(s.kv_blocks_total));
  gauge("kiln_kv_cache_usage_ratio", "gauge", "Fraction of the KV-cache blocks in use.",
        s.kv_blocks_total > 0 ? double(s.kv_blocks_used) / double(s.kv_blocks_total) : 0.0);
  o << time_to_first_token.render("kiln_time_to_first_token_seconds",
                                  "From request to its first token.");
  o << time_per_token.render("kiln_time_per_output_token_seconds",
                             "Mean time between tokens of a request, after the first.");
  o << request_latency.render("kiln_request_latency_seconds", "From request to its last token.");
  return o.str();
}

}  // namespace kiln::serve
