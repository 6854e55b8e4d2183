#pragma once
// Continuous batching: one loop thread runs every sequence the server has accepted. At each step
// it admits waiting sequences while the batch and the KV-cache pool have room, feeds up to one
// chunk of admitted prompts (chunked prefill, so a long prompt never stalls the others for long),
// runs ONE forward for the next token of every running sequence, and retires the sequences that
// finished, were cancelled or ran out of time. Sequences join and leave the batch at every step.
//
// The batched step reads the weights once for all sequences (decode on a CPU is bound by that
// traffic), yet each sequence's tokens are what it would get alone: its attention runs over its
// own cache with the same kernel call, and the matrix products run in batch-invariant mode
// (ops::BatchInvariantGuard), so a row's logits do not depend on its neighbours.
//
// Prompts that start alike share the full KV blocks of their common start (PrefixCache). This
// keeps answers batch-invariant too because prefill also runs in batch-invariant mode: a token's
// keys and values are the same whichever chunk, and whichever sequence, computed them.
//
// Memory is planned: the block pool is allocated up front for `kv_tokens` (default: `max_batch`
// sequences of `context` tokens, and never less than one sequence of `context`), and a sequence is
// admitted only when the blocks its prompt plus max_tokens need are free of other sequences'
// reservations: nothing runs out midway.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kiln/infer/generator.h"
#include "kiln/serve/prefix_cache.h"

namespace kiln::serve {

struct SchedulerOptions {
  int64_t max_batch = 32;       // sequences decoded together
  int64_t max_queue = 256;      // sequences waiting; more are refused (HTTP 429)
  int64_t context = 0;          // longest sequence; 0: the model's max_position_embeddings
  int64_t kv_tokens = 0;        // KV-cache tokens over all sequences; 0: max_batch * context
  int64_t block_size = 16;      // tokens per KV-cache block
  int64_t prefill_chunk = 256;  // prompt tokens per step, over one or more sequences
  bool prefix_cache = true;     // share prompt prefixes' full blocks (not for sliding windows)
};

// What the scheduler reports of a sequence, on its loop thread.
struct SequenceEvents {
  // A chosen token and the text it releases (possibly "").
  std::function<void(const infer::Sample&, std::string_view text)> on_token;
  // The end, called exactly once: the finish reason ("stop", "length", "cancelled", "timeout",
  // "error"), the text released at the end (what was held back), the tokens generated, and for
  // "error" the message.
  std::function<void(const std::string& finish, const std::string& tail, int64_t tokens,
                     const std::string& error)>
      on_done;
};

struct SequenceRequest {
  std::vector<int32_t> prompt;
  infer::GenerateOptions gen;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  SequenceEvents events;
  std::shared_ptr<std::atomic<bool>> cancelled;  // set by the HTTP side: the client left
};

// Counters for /metrics (read from any thread).
struct SchedulerStats {
  std::atomic<int64_t> waiting{0}, running{0}, steps{0}, batch_rows{0};
  std::atomic<int64_t> prompt_tokens{0}, generated_tokens{0};
  std::atomic<int64_t> kv_blocks_used{0}, kv_blocks_total{0};
  std::atomic<int64_t> prefix_hit_tokens{0};  // prompt tokens taken from the prefix cache
};

class Scheduler {
 public:
  Scheduler(models::Decoder& model, const tokenizer::Tokenizer* tok, const SchedulerOptions& o);
  ~Scheduler();  // stops the loop; sequences still there end as "cancelled"

  // Queues a sequence; false when the queue is full. Throws kiln::Error for a prompt the model
  // cannot take (empty, too long for the context, bad ids) or bad options.
  bool submit(SequenceRequest r);
  // Stops admitting; running and waiting sequences end as "cancelled" once the loop sees it.
  void shutdown();

  int64_t context() const { return context_; }
  const infer::BlockPool& pool() const { return *pool_; }
  const SchedulerStats& stats() const { return stats_; }
  const SchedulerOptions& options() const { return o_; }

 private:
  struct Seq;
  void loop();
  void admit();
  void prefill();
  void decode_step();
  void retire();
  void emit(Seq& s, const infer::Sample& smp);
  int64_t blocks_for(const SequenceRequest& r) const;

  models::Decoder& model_;
  const tokenizer::Tokenizer* tok_;
  SchedulerOptions o_;
  int64_t context_;
  std::unique_ptr<infer::BlockPool> pool_;
  int64_t reserved_blocks_ = 0;          // blocks promised to admitted sequences
  std::unique_ptr<PrefixCache> prefix_;  // null when off

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SequenceRequest> queue_;
  bool stopping_ = false;

  std::vector<std::unique_ptr<Seq>> running_;  // loop thread only
  SchedulerStats stats_;
  std::thread thread_;
};

}  // namespace kiln::serve
