// OpenAI's response shapes from choice events: a Qwen3-style <think> block becomes
// reasoning_content, usage adds up, and a stream is role chunk, deltas, finish chunk, usage
// chunk, [DONE].
#include <gtest/gtest.h>

#include "kiln/serve/response.h"

namespace kiln::serve {
namespace {

tokenizer::Tokenizer bytes_tokenizer() {
  return tokenizer::Tokenizer::load(std::string(KILN_SOURCE_DIR) +
                                    "/configs/tokenizers/shakespeare-bytes");
}

ChoiceEvent token(const std::string& text) {
  ChoiceEvent e;
  e.text = text;
  e.has_sample = true;
  e.sample.id = 65;
  return e;
}

ChoiceEvent done(const std::string& finish, int64_t tokens) {
  ChoiceEvent e;
  e.done = true;
  e.finish = finish;
  e.tokens = tokens;
  return e;
}

TEST(Response, WholeChatSplitsReasoningAndCountsUsage) {
  tokenizer::Tokenizer tok = bytes_tokenizer();
  CompletionRequest r =
      parse_completion_request(R"({"messages":[{"role":"user","content":"x"}]})", true);
  ResponseBuilder b(r, tok, "chatcmpl-1", "m", 7, 5);
  for (const char* t : {"<think>", "\nhmm", "</think>", "\n\n", "Four", "."}) b.add(token(t));
  EXPECT_FALSE(b.all_done());
  b.add(done("stop", 6));
  ASSERT_TRUE(b.all_done());
  nlohmann::ordered_json j = b.whole();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Four.");
  EXPECT_EQ(j["choices"][0]["message"]["reasoning_content"], "\nhmm");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(j["usage"]["completion_tokens"], 6);
  EXPECT_EQ(j["usage"]["total_tokens"], 11);
}

TEST(Response, StreamedCompletionChunksEndWithUsageAndDone) {
  tokenizer::Tokenizer tok = bytes_tokenizer();
  CompletionRequest r = parse_completion_request(
      R"({"prompt":"x","stream":true,"stream_options":{"include_usage":true}})", false);
  ResponseBuilder b(r, tok, "cmpl-1", "m", 7, 3);
  std::string sse = b.stream(token("Hel")) + b.stream(token("lo")) + b.stream(done("length", 2));
  ASSERT_TRUE(b.all_done());
  sse += b.stream_end();
  std::vector<nlohmann::json> chunks;
  size_t at = 0;
  for (size_t next; (next = sse.find("\n\n", at)) != std::string::npos; at = next + 2) {
    std::string ev = sse.substr(at, next - at);
    ASSERT_EQ(ev.rfind("data: ", 0), 0u) << ev;
    if (ev == "data: [DONE]") break;
    chunks.push_back(nlohmann::json::parse(ev.substr(6)));
  }
  EXPECT_EQ(at + 14, sse.size());  // "data: [DONE]\n\n" is last
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0]["choices"][0]["text"], "Hel");
  EXPECT_EQ(chunks[1]["choices"][0]["text"], "lo");
  EXPECT_EQ(chunks[2]["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(chunks[3]["choices"].empty());
  EXPECT_EQ(chunks[3]["usage"]["completion_tokens"], 2);
  EXPECT_EQ(chunks[3]["usage"]["total_tokens"], 5);
}

}  // namespace
}  // namespace kiln::serve
