#pragma once
// The generation engine: a Decoder, a paged KV cache and a sampler. A prompt is fed in chunks
// (chunked prefill: a long prompt never needs activations for all of it at once), then one token
// per step until a stop token, a stop string, max_tokens or the end of the context.
//
// Several prompts may be generated at once: each is its own sequence in the shared block pool and
// the engine steps them in turn, one forward of batch size 1 each, so a sequence's tokens do not
// depend on what it shares the engine with.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/infer/decode_step.h"
#include "kiln/infer/paged_kv_cache.h"
#include "kiln/infer/sampler.h"
#include "kiln/models/decoder.h"
#include "kiln/tokenizer/tokenizer.h"

namespace kiln::infer {

struct EngineOptions {
  int64_t context = 0;          // longest sequence (prompt + generated); 0: max_position_embeddings
  int64_t kv_tokens = 0;        // tokens per sequence the pool is planned for; 0: context
  int64_t max_sequences = 1;    // sequences the pool is planned for
  int64_t block_size = 16;      // tokens per cache block
  int64_t prefill_chunk = 256;  // prompt tokens per forward
};

struct GenerateOptions {
  SamplingParams sampling;
  int64_t max_tokens = 256;
  std::vector<int32_t> stop_ids;          // e.g. the model's EOS ids; not part of the output
  std::vector<std::string> stop_strings;  // matched on the decoded text; cut from the output
  bool skip_special = true;               // leave special tokens out of the text
};

enum class FinishReason { Length, Context, StopToken, StopString };
const char* finish_reason_name(FinishReason r);

struct GenerateStats {
  int64_t prompt_tokens = 0, generated_tokens = 0;
  int64_t cached_tokens = 0;         // prompt tokens a session's cache already held (not fed again)
  double time_to_first_token_s = 0;  // prompt in, first token chosen
  double prefill_s = 0, decode_s = 0;
  double prefill_tokens_per_s() const {
    return prefill_s > 0 ? double(prompt_tokens - cached_tokens) / prefill_s : 0;
  }
  // Tokens after the first (the first comes from the prefill's logits).
  double decode_tokens_per_s() const {
    return decode_s > 0 ? double(generated_tokens - 1) / decode_s : 0;
  }
  int64_t kv_bytes_total = 0;      // the pool, allocated up front
  int64_t kv_bytes_peak_used = 0;  // blocks in use at the peak
  int64_t kv_bytes_per_token = 0;  // one token in every layer
};

struct GenerateResult {
  std::vector<int32_t> ids;  // generated, without a stop token
  std::string text;          // decoded (empty without a tokenizer), without a stop string
  std::vector<Sample> samples;
  FinishReason finish = FinishReason::Length;
  GenerateStats stats;
};

// Called once per token the model chooses, with the text it releases (possibly "": text is held
// back while it may start a stop string or ends inside a UTF-8 character). A stop token is passed
// too, though it is not part of the result, with whatever text it releases. `seq` is the index
// of the prompt.
using TokenCallback = std::function<void(size_t seq, const Sample& s, std::string_view text)>;

class Engine;

// One sequence kept across calls, for conversations: its cache and the tokens in it. A prompt
// that starts with those tokens (a chat turn re-renders the whole history) feeds only the rest.
class Session {
 public:
  explicit Session(Engine& engine);
  void reset();  // forget everything; the blocks go back to the pool
  int64_t cached_tokens() const { return int64_t(tokens_.size()); }

 private:
  friend class Engine;
  Engine& engine_;
  PagedKvCache cache_;
  std::vector<int32_t> tokens_;  // what cache_ holds
};

class Engine {
 public:
  // `tokenizer` may be null: then there is no text and no stop strings.
  Engine(models::Decoder& model, const tokenizer::Tokenizer* tokenizer,
         const EngineOptions& options = {});

  GenerateResult generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                          const TokenCallback& on_token = {});
  std::vector<GenerateResult> generate(const std::vector<std::vector<int32_t>>& prompts,
                                       const GenerateOptions& options,
                                       const TokenCallback& on_token = {});
  // Continues a session: reuses the cached start of `prompt`, and keeps the result cached.
  GenerateResult generate(Session& session, std::span<const int32_t> prompt,
                          const GenerateOptions& options, const TokenCallback& on_token = {});

  // Replaces the one-token decode step (null: back to it); the engine does not own `step`.
  void set_decode_step(DecodeStep* step) { step_ = step; }

  int64_t context() const { return context_; }
  // Tokens per sequence the pool is planned for.
  int64_t kv_tokens() const { return kv_tokens_; }
  BlockPool& pool() { return *pool_; }
  models::Decoder& model() { return model_; }
  const EngineOptions& options() const { return o_; }

 private:
  struct Sequence;
  std::vector<GenerateResult> run(std::vector<std::unique_ptr<Sequence>>& seqs,
                                  const GenerateOptions& o, const TokenCallback& on_token);
  void emit(Sequence& s, const Sample& smp, const GenerateOptions& o, const TokenCallback& cb);

  models::Decoder& model_;
  const tokenizer::Tokenizer* tok_;
  EngineOptions o_;
  int64_t context_, kv_tokens_;
  std::unique_ptr<BlockPool> pool_;
  DecodeStep* step_ = nullptr;
};

}  // namespace kiln::infer
