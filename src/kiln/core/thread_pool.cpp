#include "kiln/core/thread_pool.h"

#include <cblas.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

namespace {

// Spins on `done` for up to kSpin before the caller blocks: true when it came true. Ops arrive
// back to back in a forward (a decode step of a 64-sequence batch runs ~600 of them), and waking a
// thread through the kernel costs tens of microseconds in a VM, as much as a small op; a pool that
// only ever slept paid that twice per op. Bounded, and cut short while a ForeignThreadsGuard is
// held, so that a worker does not steal cycles from OpenBLAS's own threads during a GEMM.
constexpr auto kSpin = std::chrono::microseconds(100);
std::atomic<int> g_foreign{0};  // ForeignThreadsGuards held: nobody spins
template <class F>
bool spin_until(F done) {
  auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return true;
    if (g_foreign.load(std::memory_order_relaxed) > 0) return false;
#if defined(__x86_64__)
    _mm_pause();
#endif
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return false;
  }
}

// Workers spin briefly, then sleep on a condition variable between jobs.
class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return int(workers_.size()) + 1; }

  void resize(int n) {
    stop();
    stopping_ = false;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { loop(i); });
  }

  void run(int64_t chunks, const std::function<void(int64_t)>& job) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &job;
      chunks_ = chunks;
      next_.store(0);
      pending_.store(int(workers_.size()));
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    work();
    auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(finished)) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, finished);
    }
    job_ = nullptr;
  }

 private:
  void work() {
    for (int64_t c; (c = next_.fetch_add(1)) < chunks_;) (*job_)(c);
  }
  void loop(int) {
    uint64_t seen = 0;
    for (;;) {
      auto ready = [&] {
        return stopping_.load(std::memory_order_acquire) ||
               generation_.load(std::memory_order_acquire) != seen;
      };
      if (!spin_until(ready)) {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, ready);
      }
      if (stopping_) return;
      seen = generation_.load(std::memory_order_acquire);
      work();
      // The last worker out wakes run() if it went to sleep. Decremented before the lock is
      // taken, but notified under it: run() checks `finished` under the same lock before waiting,
      // so the wake-up cannot fall between its check and its wait.
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(mu_);
        done_cv_.notify_one();
      }
    }
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t chunks_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
};

int default_threads() {
  if (const char* e = std::getenv("KILN_THREADS")) {
    int n = std::atoi(e);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  static Pool p([] {
    int n = default_threads();
    openblas_set_num_threads(n);
    return n;
  }());
  return p;
}

thread_local bool t_in_parallel = false;
std::mutex g_run_mu;  // one parallel job at a time; other callers run serially

}  // namespace

ForeignThreadsGuard::ForeignThreadsGuard() {
  g_foreign.fetch_add(1, std::memory_order_relaxed);
}
ForeignThreadsGuard::~ForeignThreadsGuard() {
  g_foreign.fetch_sub(1, std::memory_order_relaxed);
}

void set_num_threads(int n) {
  if (n <= 0) n = default_threads();
  pool().resize(n);
  openblas_set_num_threads(n);
}

int num_threads() {
  return pool().size();
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  Pool& p = pool();
  int64_t max_chunks = (n + grain - 1) / grain;
  int64_t chunks = std::min<int64_t>(max_chunks, int64_t(p.size()) * 4);
  if (chunks <= 1 || p.size() == 1 || t_in_parallel) {
    fn(0, n);
    return;
  }
  std::unique_lock<std::mutex> lk(g_run_mu, std::try_to_lock);
  if (!lk.owns_lock()) {  // another thread (e.g. a server worker) holds the pool
    fn(0, n);
    return;
  }
  int64_t per = (n + chunks - 1) / chunks;
  // The first exception thrown by any chunk is rethrown here, on the caller's thread; a worker
  // must never let one escape (that would terminate the process).
  std::exception_ptr error;
  std::mutex error_mu;
  std::function<void(int64_t)> job = [&](int64_t c) {
    int64_t b = c * per, e = std::min(n, b + per);
    if (b >= e) return;
    bool prev = t_in_parallel;
    t_in_parallel = true;
    try {
      fn(b, e);
    } catch (...) {
      std::lock_guard<std::mutex> g(error_mu);
      if (!error) error = std::current_exception();
    }
    t_in_parallel = prev;
  };
  p.run(chunks, job);
  if (error) std::rethrow_exception(error);
}

}  // namespace kiln
