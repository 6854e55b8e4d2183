// UTF-8 validation and the WHATWG replacement rule that decode() uses.
#include <gtest/gtest.h>

#include "kiln/core/error.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {
namespace {

TEST(Utf8, ValidTextPasses) {
  for (const char* s : {"", "ascii", "é", "中文", "😀", "\xF4\x8F\xBF\xBF" /* U+10FFFF */})
    EXPECT_EQ(find_invalid_utf8(s), kValidUtf8) << s;
}

TEST(Utf8, InvalidSequencesAreFoundAtTheirOffset) {
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2u);             // stray continuation
  EXPECT_EQ(find_invalid_utf8("a\xC0\xAF"), 1u);          // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);       // surrogate U+D800
  EXPECT_EQ(find_invalid_utf8("x\xF4\x90\x80\x80"), 1u);  // past U+10FFFF
  EXPECT_EQ(find_invalid_utf8("xy\xE4\xBD"), 2u);         // truncated
  EXPECT_EQ(find_invalid_utf8("\xFF"), 0u);
}

TEST(Utf8, RequireNamesTheOffsetAndBytes) {
  try {
    require_utf8("ok\xC3(", "input");
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("input: invalid UTF-8 at byte 2"), std::string::npos) << m;
    EXPECT_NE(m.find("C3 28"), std::string::npos) << m;
  }
}

TEST(Utf8, LossyDecodingReplacesEachMaximalSubpart) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(to_valid_utf8("abc"), "abc");
  EXPECT_EQ(to_valid_utf8("\xE4\xBD"), r);  // truncated: one U+FFFD
  EXPECT_EQ(to_valid_utf8("\xE4\xBD"
                          "A"),
            r + "A");                                   // then the ASCII byte again
  EXPECT_EQ(to_valid_utf8("\x80\x80"), r + r);          // each stray continuation
  EXPECT_EQ(to_valid_utf8("\xF0\x9F\x98"), r);          // 3 of 4 bytes of an emoji
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), r + r + r);  // surrogate: ED is a bad lead here
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), r + r);
}

TEST(Utf8, IncompleteTailIsHeldOnlyWhenItCanStillComplete) {
  EXPECT_EQ(incomplete_utf8_tail("ab"), 0u);
  EXPECT_EQ(incomplete_utf8_tail("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(incomplete_utf8_tail("a\xF0\x9F"), 2u);
  EXPECT_EQ(incomplete_utf8_tail("a\xE4"), 1u);
  EXPECT_EQ(incomplete_utf8_tail("\xF0\x9F\x98\x80"), 0u);  // complete
  EXPECT_EQ(incomplete_utf8_tail("a\x80"), 0u);             // invalid, not incomplete
  EXPECT_EQ(incomplete_utf8_tail("a\xE0\x80"), 0u);         // overlong can never complete
}

}  // namespace
}  // namespace kiln::tokenizer
