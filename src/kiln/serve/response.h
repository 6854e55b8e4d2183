#pragma once
// Turns a request's choice events into what OpenAI's API returns: server-sent-event chunks
// (`data: {...}\n\n`, ending with `data: [DONE]\n\n`) when streaming, or one JSON object. Chat
// replies that start with <think>...</think> (Qwen3) carry that part as reasoning_content.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/serve/exchange.h"
#include "kiln/serve/request.h"
#include "kiln/serve/text_stream.h"
#include "kiln/tokenizer/tokenizer.h"

namespace kiln::serve {

class ResponseBuilder {
 public:
  ResponseBuilder(const CompletionRequest& r, const tokenizer::Tokenizer& tok, std::string id,
                  std::string model, int64_t created, int64_t prompt_tokens);
  // Streaming: the SSE text one event adds (may be "").
  std::string stream(const ChoiceEvent& e);
  // Streaming, after the last choice ended: the usage chunk (if asked for) and [DONE].
  std::string stream_end() const;
  // Not streaming: records the event.
  void add(const ChoiceEvent& e);
  nlohmann::ordered_json whole() const;

  bool all_done() const { return done_ == int(choices_.size()); }
  // The first error a choice ended with ("" if none).
  const std::string& error() const { return error_; }
  int64_t completion_tokens() const;

 private:
  struct Choice {
    ReasoningSplit split;
    std::string content, reasoning;
    nlohmann::ordered_json logprobs = nlohmann::ordered_json::array();
    std::string finish;
    int64_t tokens = 0;
    bool started = false;
  };
  nlohmann::ordered_json logprob_entry(const infer::Sample& s) const;
  nlohmann::ordered_json chunk(int index, nlohmann::ordered_json delta_or_text,
                               const std::string& finish, nlohmann::ordered_json logprobs) const;
  nlohmann::ordered_json usage() const;
  static std::string sse(const nlohmann::ordered_json& j);
  static std::string finish_reason(const std::string& f);

  const CompletionRequest& r_;
  const tokenizer::Tokenizer& tok_;
  std::string id_, model_;
  int64_t created_, prompt_tokens_;
  std::vector<Choice> choices_;
  int done_ = 0;
  std::string error_;
};

}  // namespace kiln::serve
