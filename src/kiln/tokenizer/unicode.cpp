#include "kiln/tokenizer/unicode.h"

#include <unicode/bytestream.h>
#include <unicode/casemap.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include "kiln/core/error.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

namespace detail {

constexpr CharClass ascii_class(int c) {
  if ((c >= 9 && c <= 13) || c == ' ') return CharClass::kSpace;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CharClass::kLetter;
  if (c >= '0' && c <= '9') return CharClass::kNumber;
  return CharClass::kOther;
}

#define KILN_ASCII_ROW(r)                                                               \
  ascii_class(r + 0), ascii_class(r + 1), ascii_class(r + 2), ascii_class(r + 3),       \
      ascii_class(r + 4), ascii_class(r + 5), ascii_class(r + 6), ascii_class(r + 7),   \
      ascii_class(r + 8), ascii_class(r + 9), ascii_class(r + 10), ascii_class(r + 11), \
      ascii_class(r + 12), ascii_class(r + 13), ascii_class(r + 14), ascii_class(r + 15)
const CharClass kAsciiClass[128] = {KILN_ASCII_ROW(0),  KILN_ASCII_ROW(16), KILN_ASCII_ROW(32),
                                    KILN_ASCII_ROW(48), KILN_ASCII_ROW(64), KILN_ASCII_ROW(80),
                                    KILN_ASCII_ROW(96), KILN_ASCII_ROW(112)};
#undef KILN_ASCII_ROW

}  // namespace detail

bool is_white_space(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

CharClass unicode_char_class(char32_t cp) {
  if (cp < 128) return detail::kAsciiClass[cp];
  if (is_white_space(cp)) return CharClass::kSpace;
  uint32_t mask = U_GET_GC_MASK(UChar32(cp));
  if (mask & U_GC_L_MASK) return CharClass::kLetter;
  if (mask & U_GC_N_MASK) return CharClass::kNumber;
  return CharClass::kOther;
}

bool is_punctuation(char32_t cp) {
  if (cp < 128)
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
           (cp >= 123 && cp <= 126);
  return U_GET_GC_MASK(UChar32(cp)) & U_GC_P_MASK;
}

bool is_mark(char32_t cp) {
  return U_GET_GC_MASK(UChar32(cp)) & U_GC_M_MASK;
}

namespace {

const icu::Normalizer2& normalizer(NormalForm form) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalForm::kNFC:
      n = icu::Normalizer2::getNFCInstance(err);
      break;
    case NormalForm::kNFD:
      n = icu::Normalizer2::getNFDInstance(err);
      break;
    case NormalForm::kNFKC:
      n = icu::Normalizer2::getNFKCInstance(err);
      break;
    case NormalForm::kNFKD:
      n = icu::Normalizer2::getNFKDInstance(err);
      break;
  }
  KILN_CHECK(U_SUCCESS(err) && n, "ICU normalizer unavailable: ", u_errorName(err));
  return *n;
}

}  // namespace

bool normalize(std::string_view s, NormalForm form, std::string& out) {
  // Below U+0300 nothing decomposes under NFC and nothing combines (marks start at U+0300), and
  // ASCII is fixed under every form: most text leaves here without touching ICU.
  char32_t limit = form == NormalForm::kNFC ? 0x300 : 0x80;
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t j = i;
    if (next_code_point(s, j) >= limit) break;
    i = j;
  }
  if (i == s.size()) return false;
  const icu::Normalizer2& n = normalizer(form);
  UErrorCode err = U_ZERO_ERROR;
  icu::StringPiece piece(s.data(), int32_t(s.size()));
  if (n.isNormalizedUTF8(piece, err) && U_SUCCESS(err)) return false;
  err = U_ZERO_ERROR;
  std::string result;
  icu::StringByteSink<std::string> sink(&result);
  n.normalizeUTF8(0, piece, sink, nullptr, err);
  KILN_CHECK(U_SUCCESS(err), "ICU normalization failed: ", u_errorName(err));
  out = std::move(result);
  return true;
}

namespace {

std::string case_map(std::string_view s, bool upper) {
  std::string out;
  icu::StringByteSink<std::string> sink(&out);
  UErrorCode err = U_ZERO_ERROR;
  icu::StringPiece piece(s.data(), int32_t(s.size()));
  if (upper)
    icu::CaseMap::utf8ToUpper("", 0, piece, sink, nullptr, err);
  else
    icu::CaseMap::utf8ToLower("", 0, piece, sink, nullptr, err);
  KILN_CHECK(U_SUCCESS(err), "ICU case mapping failed: ", u_errorName(err));
  return out;
}

}  // namespace

std::string to_lower(std::string_view s) {
  return case_map(s, false);
}
std::string to_upper(std::string_view s) {
  return case_map(s, true);
}

}  // namespace kiln::tokenizer
