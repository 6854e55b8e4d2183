#pragma once
// A one-line console progress bar with rate and ETA, redrawn in place on a terminal and printed
// at most every few seconds when stderr is a file or pipe (CI logs stay short).
#include <chrono>
#include <cstdint>
#include <string>

namespace kiln {

// Wall-clock seconds since t (steady clock): the one timer runs and benchmarks report with.
inline double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "it");
  // Sets the absolute count and redraws if due; `extra` is appended (e.g. "loss 2.31").
  void update(int64_t done, const std::string& extra = "");
  // Draws the final state and ends the line.
  void finish(const std::string& extra = "");

 private:
  void draw(bool final);
  std::string label_, unit_, extra_;
  int64_t total_, done_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

// "1h02m", "3m07s", "12.4s"
std::string format_duration(double seconds);

}  // namespace kiln
