#pragma once
// The body of POST /v1/chat/completions and /v1/completions, parsed and checked. Pure: text in,
// a request or an ApiError out (nothing else is thrown), so it can be fuzzed on its own.
//
// Field names, defaults and ranges follow OpenAI's API reference; what kiln does not do (tools,
// response_format, logit_bias, ...) is ignored as OpenAI ignores unknown fields, except where
// ignoring would change the answer's meaning (e.g. n above the cap is refused).
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/infer/sampler.h"

namespace kiln::serve {

// An error the client caused: the HTTP status and OpenAI's error object.
struct ApiError : std::runtime_error {
  ApiError(int status, const std::string& message, std::string param = "",
           std::string type = "invalid_request_error", std::string code = "")
      : std::runtime_error(message),
        status(status),
        param(std::move(param)),
        type(std::move(type)),
        code(std::move(code)) {}
  int status;
  std::string param, type, code;
  // {"error": {"message", "type", "param", "code"}}
  nlohmann::json body() const;
};

struct RequestLimits {
  int64_t max_tokens_cap = 4096;  // max_tokens above this is refused
  int64_t default_max_tokens = 256;
  int64_t max_n = 8;
};

struct CompletionRequest {
  bool chat = false;
  std::string model;
  nlohmann::ordered_json messages;  // chat: [{role, content (a string)}]
  std::string prompt;               // completions: text ...
  std::vector<int32_t> prompt_ids;  // ... or token ids
  int64_t max_tokens = 0;
  infer::SamplingParams sampling;
  std::vector<std::string> stop;
  int64_t n = 1;
  bool stream = false, include_usage = false;
  bool logprobs = false;
  int64_t top_logprobs = 0;
  std::optional<bool> enable_thinking;  // chat_template_kwargs.enable_thinking (Qwen3)
  bool ignore_eos = false;              // vLLM's extension: run to max_tokens (benchmarks)
};

CompletionRequest parse_completion_request(std::string_view body, bool chat,
                                           const RequestLimits& limits = {});

}  // namespace kiln::serve
