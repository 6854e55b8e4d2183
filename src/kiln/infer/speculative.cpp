#include "kiln/infer/speculative.h"

#include <algorithm>

#include "kiln/core/progress.h"
#include "kiln/infer/eval_mode.h"
#include "kiln/infer/last_logits.h"

namespace kiln::infer {

namespace {
// The token at cumulative probability u of `p` (skipping zeros, so rounding cannot pick one).
int32_t draw(const std::vector<double>& p, double u) {
  double total = 0;
  for (double x : p) total += x;
  double acc = 0;
  int32_t last = -1;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0) continue;
    last = int32_t(i);
    if ((acc += p[i]) > u * total) return last;
  }
  KILN_CHECK(last >= 0, "speculative: drawing from an all-zero distribution");
  return last;
}

// A stream of its own for the accept/reject draws, apart from the sampler's (Philox seeds are
// keys: a different key is an independent stream).
constexpr uint64_t kAcceptStream = 0x9e3779b97f4a7c15ull;
}  // namespace

struct SpeculativeDecoder::Draft {
  Draft(BlockPool& pool, int64_t rollback, uint64_t seed)
      : cache(pool, rollback), rng(seed ^ kAcceptStream) {}
  PagedKvCache cache;
  Generator rng;
};

SpeculativeDecoder::SpeculativeDecoder(Engine& engine, models::Decoder& draft,
                                       const SpeculativeOptions& o)
    : engine_(engine), draft_(draft), o_(o) {
  const models::ModelConfig &tc = engine.model().config(), &dc = draft.config();
  KILN_REQUIRE(o.draft_tokens >= 1 && o.draft_tokens <= 64, "draft tokens: found ", o.draft_tokens,
               ", expected in [1, 64]");
  KILN_REQUIRE(dc.vocab_size == tc.vocab_size, "draft model: vocab_size ", dc.vocab_size,
               ", but the target's is ", tc.vocab_size,
               "; speculative decoding needs a draft with the target's vocabulary");
  KILN_REQUIRE(dc.max_position_embeddings >= engine.context(),
               "draft model: max_position_embeddings ", dc.max_position_embeddings,
               " is below the context ", engine.context(), "; lower it (--ctx)");
  // Dynamic NTK scaling sets every position's frequencies from the forward's total length once
  // it passes max_position_embeddings: K + 1 positions verified at once would not see the
  // frequencies they see one at a time.
  KILN_REQUIRE(
      tc.rope_scaling.rope_type != "dynamic" || engine.context() <= tc.max_position_embeddings,
      "speculative decoding: the target's rope_scaling is dynamic and the context ",
      engine.context(), " exceeds its max_position_embeddings ", tc.max_position_embeddings,
      ", so verifying several tokens in one forward would change its output; lower --ctx");
  const EngineOptions& eo = engine.options();
  KvLayout target = engine.pool().layout();
  bool slides =
      std::any_of(target.windows.begin(), target.windows.end(), [](int64_t w) { return w > 0; });
  // The target's pool keeps a sliding window plus one prefill chunk; verification feeds K + 1.
  KILN_REQUIRE(!slides || eo.prefill_chunk >= o.draft_tokens + 1,
               "speculative decoding: prefill "
               "chunk ",
               eo.prefill_chunk, " is below draft tokens + 1 = ", o.draft_tokens + 1,
               "; the sliding-window target's cache is planned for chunks of the prefill size");
  int64_t kv = engine.kv_tokens(), chunk = std::min(eo.prefill_chunk, kv) + o.draft_tokens;
  KvLayout layout = kv_layout(dc, draft.dtype());
  pool_ = std::make_unique<BlockPool>(
      layout, eo.block_size,
      BlockPool::blocks_needed(layout, eo.block_size, kv, chunk, eo.max_sequences));
  engine_.set_decode_step(this);
}

SpeculativeDecoder::~SpeculativeDecoder() {
  engine_.set_decode_step(nullptr);
}

std::vector<float> SpeculativeDecoder::draft_forward(Draft& d, std::span<const int32_t> tokens,
                                                     size_t end) {
  size_t from = size_t(d.cache.length());
  KILN_CHECK(from < end && end <= tokens.size(), "draft forward of [", from, ", ", end, ")");
  return last_logits(draft_, tokens.subspan(from, end - from), &d.cache);
}

void SpeculativeDecoder::start(size_t seq, std::span<const int32_t> prompt,
                               const SamplingParams& sp) {
  if (seqs_.size() <= seq) seqs_.resize(seq + 1);
  // The draft's sliding layers keep K tokens more than their window, so truncate() can drop K.
  seqs_[seq] = std::make_unique<Draft>(*pool_, o_.draft_tokens, sp.seed);
  EvalModeGuard eval_mode(draft_);
  size_t chunk = size_t(engine_.options().prefill_chunk);
  for (size_t from = 0; from < prompt.size(); from += chunk)
    draft_forward(*seqs_[seq], prompt, std::min(prompt.size(), from + chunk));
}

void SpeculativeDecoder::finish(size_t seq) {
  if (seq < seqs_.size()) seqs_[seq].reset();
}

std::vector<Sample> SpeculativeDecoder::step(size_t seq, std::span<const int32_t> tokens,
                                             PagedKvCache& cache, Sampler& sampler,
                                             int64_t max_new) {
  KILN_CHECK(seq < seqs_.size() && seqs_[seq], "speculative step of sequence ", seq,
             " without start()");
  Draft& d = *seqs_[seq];
  EvalModeGuard eval_mode(draft_);
  auto t0 = std::chrono::steady_clock::now();
  // Propose K tokens. A copy of the target's sampler carries the penalties' history; its own
  // random draws are not used (the acceptance rule needs q, and draws from d.rng).
  size_t k = size_t(std::min(o_.draft_tokens, max_new - 1));
  std::vector<int32_t> seq_tokens(tokens.begin(), tokens.end());
  std::vector<int32_t> proposed;
  std::vector<std::vector<double>> q;
  Sampler ds = sampler;
  for (size_t i = 0; i < k; ++i) {
    std::vector<float> logits = draft_forward(d, seq_tokens, seq_tokens.size());
    int32_t x;
    if (sampler.params().greedy()) {
      x = ds.next(logits).id;
    } else {
      q.push_back(ds.distribution(logits));
      x = draw(q.back(), d.rng.next_uniform());
      ds.accept(x, logits);
    }
    proposed.push_back(x);
    seq_tokens.push_back(x);
  }
  stats_.draft_s += seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  std::vector<Sample> out = verify(tokens, cache, sampler, proposed, q, d.rng);
  stats_.verify_s += seconds_since(t0);
  // Both caches keep the tokens before this step and the accepted proposals.
  int64_t keep = int64_t(tokens.size() + out.size()) - 1;
  KILN_CHECK(cache.truncate(keep), "speculative: the target's cache cannot cut back to ", keep);
  if (d.cache.length() > keep)
    KILN_CHECK(d.cache.truncate(keep), "speculative: the draft's cache cannot cut back to ", keep);
  ++stats_.steps;
  stats_.proposed += int64_t(k);
  stats_.accepted += int64_t(out.size()) - 1;
  stats_.emitted += int64_t(out.size());
  return out;
}

std::vector<Sample> SpeculativeDecoder::verify(std::span<const int32_t> tokens, PagedKvCache& cache,
                                               Sampler& sampler,
                                               const std::vector<int32_t>& proposed,
                                               const std::vector<std::vector<double>>& q,
                                               Generator& rng) {
  // One target forward over the last token and the K proposals: K + 1 rows of logits.
  std::vector<int64_t> ids{tokens.back()};
  ids.insert(ids.end(), proposed.begin(), proposed.end());
  int64_t n = int64_t(ids.size());
  Tensor logits = engine_.model()
                      .forward(Tensor::from_vector(ids, {1, n}), Tensor(), &cache, n == 1)
                      .logits.select(0, 0);
  std::vector<Sample> out;
  for (size_t i = 0; i <= proposed.size(); ++i) {
    std::vector<float> row = logits.select(0, int64_t(i)).to_vector<float>();
    if (i == proposed.size()) {  // every proposal kept: the target's own next token
      out.push_back(sampler.next(row));
      break;
    }
    int32_t x = proposed[i];
    if (sampler.params().greedy()) {
      out.push_back(sampler.next(row));
      if (out.back().id != x) break;
      continue;
    }
    std::vector<double> p = sampler.distribution(row);
    if (rng.next_uniform() * q[i][size_t(x)] < p[size_t(x)]) {
      out.push_back(sampler.accept(x, row));
      continue;
    }
    for (size_t j = 0; j < p.size(); ++j) p[j] = std::max(0.0, p[j] - q[i][j]);
    out.push_back(sampler.accept(draw(p, rng.next_uniform()), row));
    break;
  }
  return out;
}

}  // namespace kiln::infer
