#include "kiln/core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace kiln {

std::string format_duration(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) / 60 % 60);
  }
  return buf;
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      tty_(isatty(fileno(stderr))),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::update(int64_t done, const std::string& extra) {
  done_ = done;
  extra_ = extra;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_).count();
  if (since >= (tty_ ? 0.1 : 5.0)) {
    last_ = now;
    draw(false);
  }
}

void Progress::finish(const std::string& extra) {
  if (!extra.empty()) extra_ = extra;
  done_ = std::max(done_, total_);
  draw(true);
}

void Progress::draw(bool final) {
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double frac = total_ > 0 ? std::min(1.0, double(done_) / double(total_)) : 1.0;
  const int width = 24;
  int fill = int(frac * width);
  std::string bar(size_t(fill), '#');
  bar.resize(width, '.');
  double rate = el > 0 ? double(done_) / el : 0;
  std::string eta = frac > 0 && !final ? format_duration(el / frac - el) : format_duration(el);
  std::fprintf(stderr, "%s%s [%s] %3d%% %lld/%lld %.1f %s/s %s %s %s%s", tty_ ? "\r" : "",
               label_.c_str(), bar.c_str(), int(frac * 100), (long long)done_, (long long)total_,
               rate, unit_.c_str(), final ? "in" : "eta", eta.c_str(), extra_.c_str(),
               tty_ && !final ? "\033[K" : "\n");
  std::fflush(stderr);
}

}  // namespace kiln
