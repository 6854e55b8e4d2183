#include "kiln/infer/generator.h"

#include <algorithm>

#include "kiln/autograd/grad_mode.h"
#include "kiln/core/progress.h"
#include "kiln/infer/checks.h"
#include "kiln/infer/eval_mode.h"
#include "kiln/infer/last_logits.h"

namespace kiln::infer {

using Clock = std::chrono::steady_clock;

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::Length:
      return "length";
    case FinishReason::Context:
      return "context";
    case FinishReason::StopToken:
      return "stop_token";
    case FinishReason::StopString:
      return "stop_string";
  }
  return "?";
}

struct Engine::Sequence {
  Sequence(size_t i, std::span<const int32_t> prompt, PagedKvCache& c, size_t cached_tokens,
           const SamplingParams& sp)
      : index(i),
        tokens(prompt.begin(), prompt.end()),
        cache(c),
        cached(cached_tokens),
        sampler(sp) {
    sampler.reset(prompt);
  }
  size_t index;
  std::vector<int32_t> tokens;  // prompt, then generated
  PagedKvCache& cache;
  size_t cached;  // leading tokens already in the cache (a session's earlier turns)
  Sampler sampler;
  std::optional<tokenizer::StreamDecoder> decoder;
  std::string text;    // generated text so far, held-back tail included
  size_t emitted = 0;  // bytes of `text` handed to the callback
  bool done = false;
  GenerateResult result;
};

Session::Session(Engine& engine) : engine_(engine), cache_(engine.pool()) {}

void Session::reset() {
  cache_.reset();
  tokens_.clear();
}

Engine::Engine(models::Decoder& model, const tokenizer::Tokenizer* tokenizer,
               const EngineOptions& options)
    : model_(model), tok_(tokenizer), o_(options) {
  const models::ModelConfig& c = model.config();
  context_ = o_.context > 0 ? o_.context : c.max_position_embeddings;
  KILN_REQUIRE(context_ >= 2, "context: found ", context_, ", expected >= 2");
  KILN_REQUIRE(o_.prefill_chunk > 0, "prefill chunk: found ", o_.prefill_chunk, ", expected > 0");
  KILN_REQUIRE(o_.max_sequences > 0, "max sequences: found ", o_.max_sequences, ", expected > 0");
  kv_tokens_ = o_.kv_tokens > 0 ? std::min(o_.kv_tokens, context_) : context_;
  KvLayout layout = kv_layout(c, model.dtype());
  int64_t blocks = BlockPool::blocks_needed(
      layout, o_.block_size, kv_tokens_, std::min(o_.prefill_chunk, kv_tokens_), o_.max_sequences);
  pool_ = std::make_unique<BlockPool>(layout, o_.block_size, blocks);
  // A pool planned for one run (kv_tokens given: `kiln generate` plans prompt + max_tokens) will
  // be written, so it is written now, as llama.cpp clears its KV buffer at context creation; one
  // sized for a whole context (chat) fills as the conversation grows.
  if (o_.kv_tokens > 0) pool_->touch();
}

namespace {
// Longest suffix of `text` past `from` that is a proper prefix of a stop string: text that must
// be held back because the next token may complete the stop string.
size_t held_back(const std::string& text, size_t from, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const std::string& st : stops)
    for (size_t k = std::min(st.size() - 1, text.size() - from); k > hold; --k)
      if (text.compare(text.size() - k, k, st, 0, k) == 0) {
        hold = k;
        break;
      }
  return hold;
}
}  // namespace

void Engine::emit(Sequence& s, const Sample& smp, const GenerateOptions& o,
                  const TokenCallback& cb) {
  GenerateResult& r = s.result;
  auto finish = [&](FinishReason why) {
    r.finish = why;
    s.done = true;
  };
  if (std::find(o.stop_ids.begin(), o.stop_ids.end(), smp.id) != o.stop_ids.end()) {
    finish(FinishReason::StopToken);
  } else {
    r.ids.push_back(smp.id);
    r.samples.push_back(smp);
    s.tokens.push_back(smp.id);
    if (s.decoder) s.text += s.decoder->push(smp.id);
    if (int64_t(r.ids.size()) >= o.max_tokens)
      finish(FinishReason::Length);
    else if (int64_t(s.tokens.size()) >= context_)
      finish(FinishReason::Context);
  }
  if (s.done && s.decoder) s.text += s.decoder->finish();
  // The earliest complete stop string ends the sequence; the text before it is released.
  size_t cut = std::string::npos;
  for (const std::string& st : o.stop_strings) cut = std::min(cut, s.text.find(st, s.emitted));
  if (cut != std::string::npos) {
    s.text.resize(cut);
    finish(FinishReason::StopString);
  }
  size_t end =
      s.done ? s.text.size() : s.text.size() - held_back(s.text, s.emitted, o.stop_strings);
  std::string_view piece(s.text.data() + s.emitted, end - s.emitted);
  s.emitted = end;
  if (cb) cb(s.index, smp, piece);
}

GenerateResult Engine::generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                                const TokenCallback& on_token) {
  std::vector<std::vector<int32_t>> one{std::vector<int32_t>(prompt.begin(), prompt.end())};
  return std::move(generate(one, options, on_token)[0]);
}

std::vector<GenerateResult> Engine::generate(const std::vector<std::vector<int32_t>>& prompts,
                                             const GenerateOptions& o,
                                             const TokenCallback& on_token) {
  check_options(o, tok_ != nullptr);
  KILN_REQUIRE(
      !prompts.empty() && int64_t(prompts.size()) <= o_.max_sequences, "generate: ", prompts.size(),
      " prompts, but the engine's cache is planned for 1 to ", o_.max_sequences, " sequences");
  for (const auto& p : prompts) check_prompt(p, context_, model_.config().vocab_size);
  std::vector<std::unique_ptr<PagedKvCache>> caches;
  std::vector<std::unique_ptr<Sequence>> seqs;
  for (size_t i = 0; i < prompts.size(); ++i) {
    caches.push_back(std::make_unique<PagedKvCache>(*pool_));
    seqs.push_back(std::make_unique<Sequence>(
        i, prompts[i], *caches.back(), 0, decodable(o.sampling, tok_, model_.config().vocab_size)));
  }
  return run(seqs, o, on_token);
}

GenerateResult Engine::generate(Session& session, std::span<const int32_t> prompt,
                                const GenerateOptions& o, const TokenCallback& on_token) {
  KILN_REQUIRE(&session.engine_ == this, "generate: the session belongs to another engine");
  check_options(o, tok_ != nullptr);
  check_prompt(prompt, context_, model_.config().vocab_size);
  // Keep what the cache holds of this prompt's start; at least one token must be fed to get
  // logits, and a cache whose sliding windows have moved past the cut cannot be cut back.
  const std::vector<int32_t>& held = session.tokens_;
  size_t keep = 0;
  while (keep < held.size() && keep + 1 < prompt.size() && held[keep] == prompt[keep]) ++keep;
  if (!session.cache_.truncate(int64_t(keep))) {
    keep = 0;
    session.cache_.reset();
  }
  std::vector<std::unique_ptr<Sequence>> seqs;
  seqs.push_back(std::make_unique<Sequence>(
      0, prompt, session.cache_, keep, decodable(o.sampling, tok_, model_.config().vocab_size)));
  session.tokens_.clear();  // until the run ends, the cache's contents are in flux
  Sequence& s = *seqs[0];
  GenerateResult r = std::move(run(seqs, o, on_token)[0]);
  // A multi-token decode step may leave a token past the last one kept (a stop token) cached.
  session.tokens_.assign(s.tokens.begin(), s.tokens.begin() + std::min(session.cache_.length(),
                                                                       int64_t(s.tokens.size())));
  return r;
}

std::vector<GenerateResult> Engine::run(std::vector<std::unique_ptr<Sequence>>& seqs,
                                        const GenerateOptions& o, const TokenCallback& on_token) {
  NoGradGuard ng;
  EvalModeGuard eval_mode(model_);
  if (tok_)
    for (auto& s : seqs) s->decoder.emplace(*tok_, o.skip_special);
  Clock::time_point start = Clock::now();
  for (auto& s : seqs) {  // prefill, chunk by chunk, then the first token
    Clock::time_point t0 = Clock::now();
    size_t n = s->tokens.size(), chunk = size_t(o_.prefill_chunk);
    std::vector<float> logits;
    for (size_t from = s->cached; from < n; from += chunk)
      logits = last_logits(model_, std::span(s->tokens).subspan(from, std::min(chunk, n - from)),
                           &s->cache);
    if (step_) step_->start(s->index, s->tokens, o.sampling);
    s->result.stats.prefill_s = seconds_since(t0);
    s->result.stats.prompt_tokens = int64_t(n);
    s->result.stats.cached_tokens = int64_t(s->cached);
    emit(*s, s->sampler.next(logits), o, on_token);
    s->result.stats.time_to_first_token_s = seconds_since(start);
  }
  Clock::time_point decode_start = Clock::now();
  for (bool active = true; active;) {
    active = false;
    for (auto& s : seqs) {
      if (s->done) continue;
      size_t n = s->tokens.size();
      if (step_) {
        int64_t room =
            std::min(o.max_tokens - int64_t(s->result.ids.size()), context_ - int64_t(n));
        for (const Sample& smp : step_->step(s->index, s->tokens, s->cache, s->sampler, room)) {
          emit(*s, smp, o, on_token);
          if (s->done) break;
        }
      } else {
        std::vector<float> logits =
            last_logits(model_, std::span(s->tokens).subspan(n - 1), &s->cache);
        emit(*s, s->sampler.next(logits), o, on_token);
      }
      active = true;
    }
  }
  double decode_s = seconds_since(decode_start);
  if (step_)
    for (auto& s : seqs) step_->finish(s->index);
  std::vector<GenerateResult> out;
  for (auto& s : seqs) {
    GenerateStats& st = s->result.stats;
    st.generated_tokens = int64_t(s->result.ids.size());
    st.decode_s = decode_s;
    st.kv_bytes_total = pool_->bytes_total();
    st.kv_bytes_peak_used = pool_->peak_used_blocks() * pool_->block_bytes();
    st.kv_bytes_per_token = pool_->bytes_per_token();
    s->result.text = s->text;
    out.push_back(std::move(s->result));
  }
  return out;
}

}  // namespace kiln::infer
