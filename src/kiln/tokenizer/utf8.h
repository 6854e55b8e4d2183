#pragma once
// UTF-8 for the tokenizer: strict validation of input text, decoding of text already validated,
// and the lossy decoding that turns token bytes back into text. The lossy rule is the WHATWG
// Encoding Standard's (each maximal invalid subpart becomes one U+FFFD), which is what
// transformers.js and Python's errors="replace" produce, so decoded text matches theirs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::tokenizer {

inline constexpr size_t kValidUtf8 = std::string_view::npos;

// Byte offset of the first byte that does not start a valid UTF-8 sequence (an overlong form, a
// surrogate, a code point past U+10FFFF, a stray continuation, a truncated sequence), or
// kValidUtf8.
size_t find_invalid_utf8(std::string_view s);

// Throws kiln::Error naming `what` and the offset and bytes of the first invalid sequence.
void require_utf8(std::string_view s, std::string_view what);

// Decodes the code point at s[i] of valid UTF-8 and advances i past it.
inline char32_t next_code_point(std::string_view s, size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    ++i;
    return b;
  }
  auto c = [&](size_t k) { return char32_t(static_cast<unsigned char>(s[i + k]) & 0x3F); };
  char32_t cp;
  if (b < 0xE0) {
    cp = (char32_t(b & 0x1F) << 6) | c(1);
    i += 2;
  } else if (b < 0xF0) {
    cp = (char32_t(b & 0x0F) << 12) | (c(1) << 6) | c(2);
    i += 3;
  } else {
    cp = (char32_t(b & 0x07) << 18) | (c(1) << 12) | (c(2) << 6) | c(3);
    i += 4;
  }
  return cp;
}

// Length in bytes of the UTF-8 sequence whose lead byte is b (1 for ASCII and for stray bytes).
inline size_t utf8_length(unsigned char b) {
  return b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

void append_utf8(std::string& out, char32_t cp);

// Replaces every invalid sequence by U+FFFD (WHATWG rule); valid input is returned unchanged.
std::string to_valid_utf8(std::string_view bytes);

// Number of bytes at the end of `bytes` that begin a valid sequence the rest of which has not
// arrived yet (0 to 3): a streaming decoder holds these back.
size_t incomplete_utf8_tail(std::string_view bytes);

}  // namespace kiln::tokenizer
