#include "kiln/serve/scheduler.h"

#include <algorithm>

#include "kiln/autograd/functions.h"
#include "kiln/autograd/grad_mode.h"
#include "kiln/infer/checks.h"
#include "kiln/infer/eval_mode.h"
#include "kiln/infer/paged_row_caches.h"
#include "kiln/ops/matmul.h"
#include "kiln/serve/text_stream.h"

namespace kiln::serve {

using Clock = std::chrono::steady_clock;

struct Scheduler::Seq {
  Seq(SequenceRequest r, infer::BlockPool& pool, const tokenizer::Tokenizer* tok, int64_t blocks)
      : req(std::move(r)),
        cache(pool),
        sampler(req.gen.sampling),
        text(tok, req.gen.stop_strings, req.gen.skip_special),
        tokens(req.prompt),
        reserved(blocks) {
    sampler.reset(req.prompt);
  }
  SequenceRequest req;
  infer::PagedKvCache cache;
  infer::Sampler sampler;
  TextStream text;
  std::vector<int32_t> tokens;  // prompt, then generated
  size_t fed = 0;               // tokens in the cache
  int64_t generated = 0;
  int64_t reserved;    // pool blocks promised to this sequence
  std::string finish;  // set when it ends
  std::string tail, error;
  bool prefilled() const { return fed >= req.prompt.size(); }
};

Scheduler::Scheduler(models::Decoder& model, const tokenizer::Tokenizer* tok,
                     const SchedulerOptions& o)
    : model_(model), tok_(tok), o_(o) {
  const models::ModelConfig& c = model.config();
  KILN_REQUIRE(c.positions != models::Positions::Alibi,
               "serve: ALiBi models are not supported by the batched decode step");
  KILN_REQUIRE(o.max_batch > 0, "serve: max batch ", o.max_batch, ", expected > 0");
  KILN_REQUIRE(o.max_queue >= 0, "serve: max queue ", o.max_queue, ", expected >= 0");
  KILN_REQUIRE(o.prefill_chunk > 0, "serve: prefill chunk ", o.prefill_chunk, ", expected > 0");
  context_ = o.context > 0 ? o.context : c.max_position_embeddings;
  KILN_REQUIRE(context_ >= 2, "serve: context ", context_, ", expected >= 2");
  infer::KvLayout layout = infer::kv_layout(c, model.dtype());
  int64_t chunk = std::min(o.prefill_chunk, context_);
  int64_t blocks = infer::BlockPool::blocks_needed(layout, o.block_size, context_, chunk,
                                                   o.kv_tokens > 0 ? 1 : o.max_batch);
  if (o.kv_tokens > 0)  // a budget over all sequences; sequences wait for room
    blocks = std::max(blocks, (o.kv_tokens + o.block_size - 1) / o.block_size * layout.n_layers);
  pool_ = std::make_unique<infer::BlockPool>(layout, o.block_size, blocks);
  stats_.kv_blocks_total = blocks;
  bool sliding = false;
  for (int64_t w : layout.windows) sliding |= w > 0;
  if (o.prefix_cache && !sliding)
    prefix_ = std::make_unique<PrefixCache>(*pool_, blocks / layout.n_layers);
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
  shutdown();
  thread_.join();
  prefix_.reset();  // its references go back before the pool does
}

void Scheduler::shutdown() {
  std::lock_guard lk(mu_);
  stopping_ = true;
  cv_.notify_all();
}

int64_t Scheduler::blocks_for(const SequenceRequest& r) const {
  int64_t tokens = std::min<int64_t>(context_, int64_t(r.prompt.size()) + r.gen.max_tokens);
  return infer::BlockPool::blocks_needed(pool_->layout(), o_.block_size, tokens,
                                         std::min(o_.prefill_chunk, tokens));
}

bool Scheduler::submit(SequenceRequest r) {
  const std::vector<int32_t>& p = r.prompt;
  infer::check_prompt(p, context_, model_.config().vocab_size);
  infer::check_options(r.gen, tok_ != nullptr);
  r.gen.sampling = infer::decodable(r.gen.sampling, tok_, model_.config().vocab_size);
  KILN_REQUIRE(blocks_for(r) <= pool_->num_blocks(), "prompt: ", p.size(),
               " tokens plus max_tokens do not fit the KV cache");
  std::lock_guard lk(mu_);
  if (stopping_ || int64_t(queue_.size()) >= o_.max_queue) return false;
  queue_.push_back(std::move(r));
  stats_.waiting = int64_t(queue_.size());
  cv_.notify_all();
  return true;
}

void Scheduler::admit() {
  while (!queue_.empty() && int64_t(running_.size()) < o_.max_batch) {
    int64_t need = blocks_for(queue_.front());
    // Blocks only the prefix cache holds are room too: drop them when the pool needs it.
    if (prefix_ && reserved_blocks_ + need + prefix_->idle_blocks() > pool_->num_blocks())
      prefix_->clear();
    if (reserved_blocks_ + need > pool_->num_blocks()) break;  // first come, first served
    reserved_blocks_ += need;
    running_.push_back(std::make_unique<Seq>(std::move(queue_.front()), *pool_, tok_, need));
    queue_.pop_front();
    Seq& s = *running_.back();
    if (prefix_) {
      // At least one prompt token is fed: its logits choose the first new token.
      int64_t bs = pool_->block_size();
      auto shared = prefix_->lookup(s.req.prompt, (int64_t(s.req.prompt.size()) - 1) / bs);
      if (!shared.empty()) {
        s.cache.adopt(shared);
        s.fed = shared[0].size() * size_t(bs);
        stats_.prefix_hit_tokens += int64_t(s.fed);
      }
    }
  }
  stats_.waiting = int64_t(queue_.size());
  stats_.running = int64_t(running_.size());
}

void Scheduler::emit(Seq& s, const infer::Sample& smp) {
  const infer::GenerateOptions& g = s.req.gen;
  if (std::find(g.stop_ids.begin(), g.stop_ids.end(), smp.id) != g.stop_ids.end()) {
    s.finish = "stop";
    return;
  }
  s.tokens.push_back(smp.id);
  ++s.generated;
  ++stats_.generated_tokens;
  std::string piece = s.text.push(smp.id);
  if (s.text.stopped())
    s.finish = "stop";
  else if (s.generated >= g.max_tokens || int64_t(s.tokens.size()) >= context_)
    s.finish = "length";
  if (s.req.events.on_token) s.req.events.on_token(smp, piece);
}

void Scheduler::prefill() {
  // Up to prefill_chunk prompt tokens per step, over as many sequences as they reach: a burst
  // of new requests joins the batch in a few steps, and a long prompt still cannot stall the
  // running sequences for more than one chunk. The sequences' chunks go through one forward,
  // packed one after another in a single row (nn::KvCache::packed()), so the weights are read
  // once per step rather than once per prompt. Where a chunk ends depends on its neighbours,
  // which is why prefill runs batch-invariant too.
  size_t budget = size_t(o_.prefill_chunk);
  std::vector<Seq*> batch;
  std::vector<infer::PagedKvCache*> caches;
  std::vector<int64_t> lengths, ids, pos;
  for (auto& sp : running_) {
    Seq& s = *sp;
    if (budget == 0) break;
    if (s.prefilled() || !s.finish.empty()) continue;
    size_t n = std::min(s.req.prompt.size() - s.fed, budget);
    budget -= n;
    batch.push_back(&s);
    caches.push_back(&s.cache);
    lengths.push_back(int64_t(n));
    for (size_t i = 0; i < n; ++i) {
      ids.push_back(s.tokens[s.fed + i]);
      pos.push_back(int64_t(s.fed + i));
    }
  }
  if (batch.empty()) return;
  Tensor logits;
  try {
    int64_t t = int64_t(ids.size());
    infer::PagedRowCaches rows(caches, lengths);
    ops::BatchInvariantGuard invariant;
    logits = model_
                 .forward(Tensor::from_vector(ids, {1, t}), Tensor::from_vector(pos, {1, t}), &rows,
                          true)
                 .logits.contiguous();
  } catch (const std::exception& e) {  // the packed forward failed: every sequence in it ends
    for (Seq* s : batch) {
      s->finish = "error";
      s->error = e.what();
    }
    return;
  }
  for (size_t r = 0; r < batch.size(); ++r) {
    Seq& s = *batch[r];
    s.fed += size_t(lengths[r]);
    stats_.prompt_tokens += lengths[r];
    if (!s.prefilled()) continue;
    // A failure here (the prefix cache, sampling, decoding the token) ends this sequence only.
    try {
      if (prefix_)
        prefix_->insert(s.req.prompt, s.cache, int64_t(s.req.prompt.size()) / pool_->block_size());
      std::vector<float> row = logits.select(0, 0).select(0, int64_t(r)).to_vector<float>();
      emit(s, s.sampler.next(row));
    } catch (const std::exception& e) {
      s.finish = "error";
      s.error = e.what();
    }
  }
}

void Scheduler::decode_step() {
  std::vector<Seq*> batch;
  for (auto& s : running_)
    if (s->prefilled() && s->finish.empty() && s->generated > 0) batch.push_back(s.get());
  if (batch.empty()) return;
  int64_t b = int64_t(batch.size());
  std::vector<int64_t> ids, pos;
  std::vector<infer::PagedKvCache*> caches;
  for (Seq* s : batch) {
    ids.push_back(s->tokens.back());
    pos.push_back(int64_t(s->tokens.size()) - 1);
    caches.push_back(&s->cache);
  }
  try {
    infer::PagedRowCaches rows(caches);
    ops::BatchInvariantGuard invariant;
    Tensor logits = model_
                        .forward(Tensor::from_vector(ids, {b, 1}), Tensor::from_vector(pos, {b, 1}),
                                 &rows, true)
                        .logits.contiguous();
    ++stats_.steps;
    stats_.batch_rows += b;
    for (int64_t r = 0; r < b; ++r) {
      Seq& s = *batch[size_t(r)];
      s.fed = s.tokens.size();
      // A failure here (sampling, decoding the token) ends this sequence only.
      try {
        std::vector<float> row = logits.select(0, r).select(0, 0).to_vector<float>();
        emit(s, s.sampler.next(row));
      } catch (const std::exception& e) {
        s.finish = "error";
        s.error = e.what();
      }
    }
  } catch (const std::exception& e) {  // the batched forward itself failed: every row ends
    for (Seq* s : batch)
      if (s->finish.empty()) {
        s->finish = "error";
        s->error = e.what();
      }
  }
}

void Scheduler::retire() {
  Clock::time_point now = Clock::now();
  for (auto& s : running_) {
    if (!s->finish.empty()) continue;
    if (s->req.cancelled && *s->req.cancelled)
      s->finish = "cancelled";
    else if (now >= s->req.deadline)
      s->finish = "timeout";
  }
  auto done = [](const std::unique_ptr<Seq>& s) { return !s->finish.empty(); };
  for (auto& s : running_) {
    if (!done(s)) continue;
    std::string tail;
    try {
      tail = s->text.finish();
    } catch (const std::exception& e) {  // the held-back text could not be decoded
      s->finish = "error";
      s->error = e.what();
    }
    if (s->req.events.on_done) s->req.events.on_done(s->finish, tail, s->generated, s->error);
    reserved_blocks_ -= s->reserved;
  }
  running_.erase(std::remove_if(running_.begin(), running_.end(), done), running_.end());
  stats_.kv_blocks_used = pool_->used_blocks();
}

void Scheduler::loop() {
  NoGradGuard no_grad;
  infer::EvalModeGuard eval(model_);
  for (;;) {
    {
      std::unique_lock lk(mu_);
      if (stopping_) break;
      admit();
      if (running_.empty()) {
        cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
        continue;
      }
    }
    retire();  // the cancelled and timed-out leave before the step
    prefill();
    decode_step();
    retire();
  }
  // Shutting down: every sequence still here ends as cancelled, waiting ones too.
  std::unique_lock lk(mu_);
  for (auto& s : running_) s->finish = "cancelled";
  for (SequenceRequest& r : queue_)
    if (r.events.on_done) r.events.on_done("cancelled", "", 0, "");
  queue_.clear();
  lk.unlock();
  retire();
  stats_.running = 0;
  stats_.waiting = 0;
}

}  // namespace kiln::serve
