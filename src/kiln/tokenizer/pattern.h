#pragma once
// Patterns that pre-tokenizers split text with. A tokenizer.json names a regex written for
// Oniguruma; kiln runs it with PCRE2 (JIT-compiled), except for the three regexes nearly every
// byte-level model uses (GPT-2's, Llama-3's, and Qwen2's, which differs from Llama-3's only in
// taking digits one at a time): those have hand-written matchers, several times faster and on
// ICU's newer Unicode tables. tests/tokenizer/pattern_test.cpp checks them equal to PCRE2 on
// every character class the regexes distinguish.
#include <memory>
#include <string>
#include <string_view>

namespace kiln::tokenizer {

// Input is valid UTF-8 (the tokenizer validates it once, up front).
class Pattern {
 public:
  virtual ~Pattern() = default;
  // The leftmost match starting at or after `from`; false when there is none. May be empty.
  virtual bool find(std::string_view text, size_t from, size_t& start, size_t& end) const = 0;
};

inline constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// A hand-written matcher for the three regexes above, else PCRE2. Throws kiln::Error naming
// `where` and PCRE2's message when the regex does not compile.
std::unique_ptr<Pattern> compile_regex(std::string_view regex, std::string_view where);
// Always PCRE2 (the tests compare it with the hand-written matchers).
std::unique_ptr<Pattern> compile_pcre2(std::string_view regex, std::string_view where);
std::unique_ptr<Pattern> literal_pattern(std::string literal);

}  // namespace kiln::tokenizer
