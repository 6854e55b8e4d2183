#include "kiln/tokenizer/utf8.h"

#include <cstdio>

#include "kiln/core/error.h"

namespace kiln::tokenizer {

namespace {

// One step of the WHATWG UTF-8 decoder at s[i]. `len` bytes form either a valid sequence (ok) or
// a maximal invalid subpart; `truncated` marks a valid prefix cut off by the end of the input.
struct Step {
  size_t len;
  bool ok;
  bool truncated;
  char32_t cp;
};

Step step(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return {1, true, false, b};
  int need;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t cp;
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
    cp = b & 0x1F;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need = 2;
    cp = b & 0x0F;
    if (b == 0xE0) lo = 0xA0;  // no overlong forms
    if (b == 0xED) hi = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 3;
    cp = b & 0x07;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return {1, false, false, 0};
  }
  size_t j = i + 1;
  for (int k = 0; k < need; ++k, ++j) {
    if (j >= s.size()) return {j - i, false, true, 0};
    auto c = static_cast<unsigned char>(s[j]);
    if (c < lo || c > hi) return {j - i, false, false, 0};
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (c & 0x3F);
  }
  return {j - i, true, false, cp};
}

}  // namespace

size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    Step st = step(s, i);
    if (!st.ok) return i;
    i += st.len;
  }
  return kValidUtf8;
}

void require_utf8(std::string_view s, std::string_view what) {
  size_t at = find_invalid_utf8(s);
  if (at == kValidUtf8) return;
  std::string bytes;
  for (size_t k = at; k < s.size() && k < at + 4; ++k) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "%s%02X", k == at ? "" : " ",
                  static_cast<unsigned>(static_cast<unsigned char>(s[k])));
    bytes += hex;
  }
  KILN_REQUIRE(false, what, ": invalid UTF-8 at byte ", at, " (bytes ", bytes,
               "); expected UTF-8 text");
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

std::string to_valid_utf8(std::string_view bytes) {
  size_t bad = find_invalid_utf8(bytes);
  if (bad == kValidUtf8) return std::string(bytes);
  std::string out(bytes.substr(0, bad));
  size_t i = bad;
  while (i < bytes.size()) {
    Step st = step(bytes, i);
    if (st.ok)
      out.append(bytes.substr(i, st.len));
    else
      out += "\xEF\xBF\xBD";
    i += st.len;
  }
  return out;
}

size_t incomplete_utf8_tail(std::string_view bytes) {
  for (size_t k = 1; k <= 3 && k <= bytes.size(); ++k) {
    auto b = static_cast<unsigned char>(bytes[bytes.size() - k]);
    if (b < 0x80) return 0;
    if (b >= 0xC0) return step(bytes, bytes.size() - k).truncated ? k : 0;
  }
  return 0;
}

}  // namespace kiln::tokenizer
