#pragma once
// The one thread pool. Its size comes from --threads / KILN_THREADS (default: hardware threads),
// and OpenBLAS is set to the same count. Kernels run either in this pool or inside a BLAS call,
// never both at once, so the machine is never oversubscribed.
#include <cstdint>
#include <functional>

namespace kiln {

// Sets the thread count for kiln and OpenBLAS. n <= 0 means: KILN_THREADS, else all hardware
// threads.
void set_num_threads(int n);
int num_threads();

// Runs fn(begin, end) over [0, n) split into chunks of at least `grain` items, in parallel.
// Calls from inside a parallel region run serially. An exception thrown by fn in any chunk is
// rethrown to the caller once all chunks have finished.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Held around a call into a library with threads of its own (OpenBLAS): the pool's workers,
// which spin for a moment after each job before they sleep, go to sleep at once instead of
// competing with that library's threads for the cores.
class ForeignThreadsGuard {
 public:
  ForeignThreadsGuard();
  ~ForeignThreadsGuard();
  ForeignThreadsGuard(const ForeignThreadsGuard&) = delete;
  ForeignThreadsGuard& operator=(const ForeignThreadsGuard&) = delete;
};

}  // namespace kiln
