#include "kiln/infer/checks.h"

#include "kiln/tokenizer/tokenizer.h"

namespace kiln::infer {

void check_prompt(std::span<const int32_t> prompt, int64_t context, int64_t vocab_size) {
  KILN_REQUIRE(!prompt.empty(), "prompt: no tokens; expected at least one");
  KILN_REQUIRE(int64_t(prompt.size()) < context, "prompt: ", prompt.size(),
               " tokens, but the context holds ", context,
               " (max_position_embeddings or --ctx); expected at most ", context - 1,
               " to leave room for one new token");
  for (size_t i = 0; i < prompt.size(); ++i)
    KILN_REQUIRE(prompt[i] >= 0 && prompt[i] < vocab_size, "prompt: token id ", prompt[i],
                 " at index ", i, " is out of range [0, ", vocab_size,
                 ") (the model's vocab_size)");
}

void check_options(const GenerateOptions& o, bool has_tokenizer) {
  o.sampling.validate();
  KILN_REQUIRE(o.max_tokens > 0, "max_tokens: found ", o.max_tokens, ", expected > 0");
  for (const std::string& st : o.stop_strings)
    KILN_REQUIRE(!st.empty(), "stop strings: an empty stop string would stop at once");
  KILN_REQUIRE(o.stop_strings.empty() || has_tokenizer,
               "stop strings need a tokenizer to decode text; the model has none");
}

SamplingParams decodable(SamplingParams p, const tokenizer::Tokenizer* tok, int64_t vocab_size) {
  if (tok && tok->vocab_size() < vocab_size) p.vocab_limit = tok->vocab_size();
  return p;
}

}  // namespace kiln::infer
