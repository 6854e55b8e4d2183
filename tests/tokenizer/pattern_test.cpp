// The hand-written GPT-2 / Llama-3 / Qwen2 matchers are proven equal to PCRE2 running the same
// regexes: first the character classes they rely on agree for every code point (except where
// documented), then both split many random strings built from every class identically.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <gtest/gtest.h>
#include <pcre2.h>

#include <random>

#include <nlohmann/json.hpp>

#include "kiln/tokenizer/pattern.h"
#include "kiln/tokenizer/pretokenizer.h"
#include "kiln/tokenizer/unicode.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {
namespace {

class Pcre2Class {
 public:
  explicit Pcre2Class(const char* re) {
    int err;
    PCRE2_SIZE off;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re), PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
    data_ = pcre2_match_data_create(1, nullptr);
  }
  ~Pcre2Class() {
    pcre2_match_data_free(data_);
    pcre2_code_free(code_);
  }
  bool operator()(const std::string& s) const {
    return pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, data_,
                       nullptr) > 0;
  }

 private:
  pcre2_code* code_;
  pcre2_match_data* data_;
};

// Every code point: ICU's class (what kiln uses) against PCRE2's \p{L}, \p{N}, \s. They may
// differ only for U+0085 (White_Space, not in PCRE2's \s), U+180E (still in PCRE2's \s, no
// longer White_Space since Unicode 6.3, nor in JavaScript's \s), and characters PCRE2 10.42's
// Unicode 14 tables do not know yet (\p{Cn}) that ICU 72's Unicode 15 assigns.
TEST(Pattern, CharacterClassesAgreeWithPcre2) {
  Pcre2Class letter("^\\p{L}$"), number("^\\p{N}$"), space("^\\s$"), unassigned("^\\p{Cn}$");
  int newer = 0;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string s;
    append_utf8(s, cp);
    CharClass want = letter(s)   ? CharClass::kLetter
                     : number(s) ? CharClass::kNumber
                     : space(s)  ? CharClass::kSpace
                                 : CharClass::kOther;
    CharClass got = char_class(cp);
    if (got == want) continue;
    if (cp == 0x85 || cp == 0x180E) {
      EXPECT_EQ(got, cp == 0x85 ? CharClass::kSpace : CharClass::kOther);
      continue;
    }
    ASSERT_TRUE(unassigned(s)) << "U+" << std::hex << uint32_t(cp) << " classes differ";
    ++newer;
  }
  EXPECT_LT(newer, 6000) << "characters new in Unicode 15";
}

// Pieces a pattern cuts text into (Isolated split, as the pre-tokenizers use it).
std::vector<std::string> pieces(const Pattern& p, const std::string& s) {
  std::vector<std::string> out;
  size_t from = 0, b, e;
  while (from < s.size() && p.find(s, from, b, e)) {
    if (e == b) {
      from = b + utf8_length(static_cast<unsigned char>(s[b]));
      continue;
    }
    if (b > from) out.push_back(s.substr(from, b - from));
    out.push_back(s.substr(b, e - b));
    from = e;
  }
  if (from < s.size()) out.push_back(s.substr(from));
  return out;
}

// Alphabet for random strings: letters, digits and other numbers, white space (U+0085 aside),
// punctuation, symbols, marks, emoji and the pieces of contractions, in several scripts.
std::vector<std::string> alphabet() {
  std::vector<std::string> a;
  auto add = [&](std::initializer_list<char32_t> cps) {
    for (char32_t c : cps) {
      std::string s;
      append_utf8(s, c);
      a.push_back(s);
    }
  };
  add({'a',    'b',    'z',    'A',    'Z',    's',     'S',   't',   'T',   'r',
       'R',    'e',    'E',    'v',    'V',    'm',     'M',   'l',   'L',   'd',
       'D',    0x17F,  0xE9,   0x3B1,  0x416,  0x5D0,   0x627, 0x915, 0x93F, 0xE01,
       0x4E2D, 0x3042, 0xAC00, 0x1780, 0x17B6, 0x1D400, 0x2C6});
  add({'0', '7', '9', 0x663, 0x967, 0xFF13, 0xB2, 0xBD, 0x2163, 0x2460});
  add({' ', ' ', ' ', '\t', '\n', '\n', '\r', 0x0B, 0x0C, 0xA0, 0x1680, 0x2003, 0x2028, 0x2029,
       0x202F, 0x3000});
  add({'\'',   '\'',  '.',     ',',     '!',     '?',    '-',    '(',
       ')',    '"',   '#',     0x2019,  0x3002,  0xFF01, 0x60C,  0xFEFF,
       0x200B, 0x301, 0x1F600, 0x1F44D, 0x1F3FD, 0x200D, 0xFFFD, 0x20AC});
  return a;
}

void check_equal_to_pcre2(std::string_view regex) {
  auto hand = compile_regex(regex, "test");
  auto pcre = compile_pcre2(regex, "test");
  auto chars = alphabet();
  std::mt19937 rng(12345);
  for (int n = 0; n < 30000; ++n) {
    std::string s;
    int len = 1 + int(rng() % 24);
    for (int i = 0; i < len; ++i) s += chars[rng() % chars.size()];
    ASSERT_EQ(pieces(*hand, s), pieces(*pcre, s)) << "input: " << nlohmann::json(s).dump();
  }
}

TEST(Pattern, Gpt2MatcherEqualsPcre2) {
  check_equal_to_pcre2(kGpt2Regex);
}
TEST(Pattern, Llama3MatcherEqualsPcre2) {
  check_equal_to_pcre2(kLlama3Regex);
}
TEST(Pattern, Qwen2MatcherEqualsPcre2) {
  check_equal_to_pcre2(kQwen2Regex);
}

using Pieces = std::vector<std::string>;

TEST(Pattern, KnownSplits) {
  auto llama3 = compile_regex(kLlama3Regex, "test");
  auto qwen2 = compile_regex(kQwen2Regex, "test");
  auto gpt2 = compile_regex(kGpt2Regex, "test");
  EXPECT_EQ(
      pieces(*llama3, "Hello world, I'M 12345 ok\n\n  x"),
      (Pieces{"Hello", " world", ",", " I", "'M", " ", "123", "45", " ok", "\n\n", " ", " x"}));
  EXPECT_EQ(pieces(*qwen2, "12345"), (Pieces{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(pieces(*gpt2, "I'M 12345   x"), (Pieces{"I", "'", "M", " 12345", "  ", " x"}));
  EXPECT_EQ(pieces(*gpt2, "  "), (Pieces{"  "}));
}

// Where kiln follows Hugging Face tokenizers and tiktoken (Unicode White_Space, Unicode case
// folding) rather than transformers.js (JavaScript's \s, ASCII-only case folding).
TEST(Pattern, UnicodeSemanticsPinned) {
  auto llama3 = compile_regex(kLlama3Regex, "test");
  auto gpt2 = compile_regex(kGpt2Regex, "test");
  EXPECT_EQ(pieces(*llama3, "a\u0085\u0085b"), (Pieces{"a", "\u0085", "\u0085b"}));  // NEL is \s
  EXPECT_EQ(pieces(*llama3, "a\uFEFF\uFEFFb"), (Pieces{"a", "\uFEFF\uFEFF", "b"}));  // BOM is not
  EXPECT_EQ(pieces(*llama3, "it'\u017F"), (Pieces{"it", "'\u017F"}));    // (?i:'s) takes long s
  EXPECT_EQ(pieces(*gpt2, "it'\u017F"), (Pieces{"it", "'", "\u017F"}));  // GPT-2 is case-sensitive
}

std::vector<std::string> pre_split(const nlohmann::json& desc, const std::string& text) {
  auto pre = make_pre_tokenizer(desc, false);
  std::vector<std::string> out;
  pre->split(text, true, [&](std::string_view p, bool) { out.emplace_back(p); });
  return out;
}

TEST(Pattern, SplitBehaviours) {
  auto split = [](const char* behavior) {
    return nlohmann::json{{"type", "Split"},
                          {"pattern", {{"String", "-"}}},
                          {"behavior", behavior},
                          {"invert", false}};
  };
  const std::string t = "the-final--countdown";
  EXPECT_EQ(pre_split(split("Removed"), t), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(pre_split(split("Isolated"), t), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(pre_split(split("MergedWithPrevious"), t),
            (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(pre_split(split("MergedWithNext"), t), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(pre_split(split("Contiguous"), t), (Pieces{"the", "-", "final", "--", "countdown"}));
  nlohmann::json digits = {{"type", "Digits"}, {"individual_digits", true}};
  EXPECT_EQ(pre_split(digits, "ab123c"), (Pieces{"ab", "1", "2", "3", "c"}));
  nlohmann::json meta = {{"type", "Metaspace"},
                         {"replacement", "\u2581"},
                         {"prepend_scheme", "always"},
                         {"split", true}};
  EXPECT_EQ(pre_split(meta, "Hey  friend"), (Pieces{"\u2581Hey", "\u2581", "\u2581friend"}));
  nlohmann::json ws = {{"type", "WhitespaceSplit"}};
  EXPECT_EQ(pre_split(ws, " a \t b\n"), (Pieces{"a", "b"}));
}

TEST(Pattern, NormalizationFastPathAgreesWithIcu) {
  std::string out;
  EXPECT_FALSE(normalize("plain ascii", NormalForm::kNFC, out));
  EXPECT_FALSE(normalize("caf\u00e9 \u00e0 \u00ff", NormalForm::kNFC, out));  // below U+0300
  ASSERT_TRUE(normalize("cafe\u0301", NormalForm::kNFC, out));
  EXPECT_EQ(out, "caf\u00e9");
  ASSERT_TRUE(normalize("\u212b", NormalForm::kNFC, out));  // Angstrom sign
  EXPECT_EQ(out, "\u00c5");
  ASSERT_TRUE(normalize("caf\u00e9", NormalForm::kNFD, out));
  EXPECT_EQ(out, "cafe\u0301");
  ASSERT_TRUE(normalize("\ufb01", NormalForm::kNFKC, out));
  EXPECT_EQ(out, "fi");
  EXPECT_EQ(to_lower("\u0391\u03a3"), "\u03b1\u03c2");  // final sigma
}

}  // namespace
}  // namespace kiln::tokenizer
