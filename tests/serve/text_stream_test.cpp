// Streaming text: stop strings cut and held back; <think> reasoning split from the answer.
#include <gtest/gtest.h>

#include "kiln/serve/text_stream.h"

namespace kiln::serve {
namespace {

std::string all(ReasoningSplit& s, const std::vector<std::string>& pieces, std::string* reasoning) {
  std::string content;
  for (const std::string& p : pieces) {
    ReasoningSplit::Piece x = s.push(p);
    *reasoning += x.reasoning;
    content += x.content;
  }
  ReasoningSplit::Piece x = s.finish();
  *reasoning += x.reasoning;
  return content + x.content;
}

TEST(ReasoningSplit, ThinkBlockBecomesReasoning) {
  ReasoningSplit s;
  std::string r;
  EXPECT_EQ(all(s, {"<th", "ink>\nlet me ", "see</th", "ink>\n\nThe answer", " is 4."}, &r),
            "The answer is 4.");
  EXPECT_EQ(r, "\nlet me see");
}

TEST(ReasoningSplit, NoThinkBlockIsAllContent) {
  ReasoningSplit s;
  std::string r;
  EXPECT_EQ(all(s, {"<", "b>bold</b>"}, &r), "<b>bold</b>");
  EXPECT_EQ(r, "");
  ReasoningSplit t;
  EXPECT_EQ(all(t, {"<thi"}, &r), "<thi");  // ended before the tag completed
}

TEST(ReasoningSplit, UnclosedThinkIsReasoning) {
  ReasoningSplit s;
  std::string r;
  EXPECT_EQ(all(s, {"<think>abc</thi"}, &r), "");
  EXPECT_EQ(r, "abc</thi");
}

}  // namespace
}  // namespace kiln::serve
