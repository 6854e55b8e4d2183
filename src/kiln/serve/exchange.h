#pragma once
// One completion request in flight between the HTTP thread that answers it and the scheduler's
// loop thread that generates it: the loop pushes events (tokens, ends), the HTTP thread takes
// them and writes them to the client. `cancelled` goes the other way: the client left.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "kiln/infer/sampler.h"

namespace kiln::serve {

struct ChoiceEvent {
  int index = 0;
  std::string text;
  bool has_sample = false;
  infer::Sample sample;
  bool done = false;
  std::string finish, error;
  int64_t tokens = 0;  // with done: tokens the choice generated
};

class Exchange {
 public:
  void push(ChoiceEvent e) {
    std::lock_guard lk(mu_);
    events_.push_back(std::move(e));
    cv_.notify_all();
  }
  // The events so far, waiting up to `wait` for the first.
  std::deque<ChoiceEvent> take(std::chrono::milliseconds wait) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, wait, [&] { return !events_.empty(); });
    return std::exchange(events_, {});
  }
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ChoiceEvent> events_;
};

}  // namespace kiln::serve
