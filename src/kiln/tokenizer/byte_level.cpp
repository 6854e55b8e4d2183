#include "kiln/tokenizer/byte_level.h"

#include <array>

#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

namespace {

bool printable(int b) {
  return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
}

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<int16_t, 512> to_byte{};
  std::array<std::string, 256> utf8;
  Tables() {
    to_byte.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      char32_t c = printable(b) ? char32_t(b) : char32_t(256 + extra++);
      to_char[size_t(b)] = c;
      to_byte[c] = int16_t(b);
      append_utf8(utf8[size_t(b)], c);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t byte_to_char(uint8_t b) {
  return tables().to_char[b];
}

int char_to_byte(char32_t c) {
  return c < 512 ? tables().to_byte[c] : -1;
}

std::string to_byte_level(std::string_view raw) {
  const Tables& t = tables();
  std::string out;
  out.reserve(raw.size() * 2);
  for (char ch : raw) out += t.utf8[static_cast<unsigned char>(ch)];
  return out;
}

bool from_byte_level(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  if (find_invalid_utf8(text) != kValidUtf8) return false;
  for (size_t i = 0; i < text.size();) {
    int b = char_to_byte(next_code_point(text, i));
    if (b < 0) return false;
    out.push_back(char(b));
  }
  return true;
}

}  // namespace kiln::tokenizer
