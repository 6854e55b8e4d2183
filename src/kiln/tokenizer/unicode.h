#pragma once
// Unicode properties and normalization for the tokenizer, from ICU (Debian's libicu: a
// well-kept copy of the Unicode Character Database, Unicode 15.0 in ICU 72, the version the
// Oniguruma inside Hugging Face tokenizers uses).
//
// The pre-tokenizer patterns of GPT-2, Llama-3 and Qwen2 ask three questions of a character:
// is it a letter (\p{L}), a number (\p{N}), or white space (\s). \s here is the Unicode
// White_Space property, as in tiktoken's and Hugging Face's regex engines; it includes U+0085
// and excludes U+FEFF, where JavaScript's \s does the opposite.
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::tokenizer {

enum class CharClass : uint8_t { kOther, kLetter, kNumber, kSpace };

bool is_white_space(char32_t cp);
CharClass unicode_char_class(char32_t cp);  // any code point, through ICU

namespace detail {
extern const CharClass kAsciiClass[128];
}

inline CharClass char_class(char32_t cp) {
  return cp < 128 ? detail::kAsciiClass[cp] : unicode_char_class(cp);
}

bool is_punctuation(char32_t cp);  // Unicode P* or an ASCII symbol (Hugging Face's definition)
bool is_mark(char32_t cp);         // Unicode M*

enum class NormalForm { kNFC, kNFD, kNFKC, kNFKD };

// Writes the normalized form of valid UTF-8 `s` to `out` and returns true, or returns false
// (leaving `out` alone) when `s` is already in that form, the common case, checked cheaply.
bool normalize(std::string_view s, NormalForm form, std::string& out);

// Full Unicode lower-casing of valid UTF-8 (root locale; final sigma handled), as String.lower.
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);

}  // namespace kiln::tokenizer
