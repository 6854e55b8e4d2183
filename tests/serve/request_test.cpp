// Request parsing: OpenAI's fields and defaults, and a 400 naming the field for every kind of
// bad input.
#include <gtest/gtest.h>

#include "kiln/serve/request.h"

namespace kiln::serve {
namespace {

CompletionRequest chat(const std::string& body) {
  return parse_completion_request(body, true);
}

TEST(Request, ChatFieldsAndDefaults) {
  CompletionRequest r = chat(R"({"model":"m","messages":[{"role":"system","content":"s"},
    {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}],
    "max_completion_tokens":7,"temperature":0,"top_p":0.5,"top_k":3,"min_p":0.1,"stop":"x",
    "seed":9,"n":2,"presence_penalty":1,"frequency_penalty":-1,"logprobs":true,"top_logprobs":2,
    "stream":true,"stream_options":{"include_usage":true},
    "chat_template_kwargs":{"enable_thinking":false}})");
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1]["content"], "ab");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_EQ(r.sampling.temperature, 0);
  EXPECT_EQ(r.sampling.top_p, 0.5);
  EXPECT_EQ(r.sampling.top_k, 3);
  EXPECT_EQ(r.sampling.min_p, 0.1);
  EXPECT_EQ(r.stop, std::vector<std::string>{"x"});
  EXPECT_EQ(r.sampling.seed, 9u);
  EXPECT_EQ(r.n, 2);
  EXPECT_EQ(r.sampling.presence_penalty, 1);
  EXPECT_EQ(r.sampling.frequency_penalty, -1);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.sampling.logprobs, 2);
  EXPECT_TRUE(r.stream && r.include_usage);
  EXPECT_EQ(r.enable_thinking, false);

  CompletionRequest d = chat(R"({"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(d.max_tokens, RequestLimits{}.default_max_tokens);
  EXPECT_EQ(d.sampling.temperature, 1.0);
  EXPECT_EQ(d.n, 1);
  EXPECT_FALSE(d.stream);
}

TEST(Request, CompletionPrompts) {
  CompletionRequest a = parse_completion_request(R"({"prompt":"hello","logprobs":2})", false);
  EXPECT_EQ(a.prompt, "hello");
  EXPECT_EQ(a.sampling.logprobs, 2);
  CompletionRequest b = parse_completion_request(R"({"prompt":[1,2,3]})", false);
  EXPECT_EQ(b.prompt_ids, (std::vector<int32_t>{1, 2, 3}));
  CompletionRequest c = parse_completion_request(R"({"prompt":["one"]})", false);
  EXPECT_EQ(c.prompt, "one");
}

// Each bad body: status 400 and the offending field named in the message and `param`.
TEST(Request, BadInputNamesTheField) {
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"({"messages":[{"role":"user","content":"hi"})", ""},  // malformed JSON
      {R"([1,2])", ""},
      {R"({"messages":[]})", "messages"},
      {R"({"messages":"hi"})", "messages"},
      {R"({})", "messages"},
      {R"({"messages":[{"role":"robot","content":"hi"}]})", "messages[0].role"},
      {R"({"messages":[{"role":"user"}]})", "messages[0].content"},
      {R"({"messages":[{"role":"user","content":5}]})", "messages[0].content"},
      {R"({"messages":[{"role":"user","content":"x"}],"model":3})", "model"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})", "temperature"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":3})", "temperature"},
      {R"({"messages":[{"role":"user","content":"x"}],"top_p":0})", "top_p"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1.5})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1e30})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":99999999})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":18446744073709551615})",
       "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"n":100})", "n"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})", "stop"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":""})", "stop"},
      {R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream"},
      {R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":3})", "top_logprobs"},
      {R"({"messages":[{"role":"user","content":"x"}],"seed":"1"})", "seed"},
  };
  for (const Case& c : cases) {
    try {
      chat(c.body);
      ADD_FAILURE() << "accepted: " << c.body;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status, 400) << c.body;
      EXPECT_EQ(e.param, c.param) << c.body << ": " << e.what();
      nlohmann::json b = e.body();
      EXPECT_EQ(b["error"]["type"], "invalid_request_error");
      EXPECT_TRUE(b["error"]["message"].is_string());
    }
  }
  EXPECT_THROW(parse_completion_request(R"({"prompt":[-1]})", false), ApiError);
  EXPECT_THROW(parse_completion_request(R"({"prompt":{}})", false), ApiError);
  EXPECT_THROW(parse_completion_request(R"({"prompt":"x","logprobs":9})", false), ApiError);
}

}  // namespace
}  // namespace kiln::serve
