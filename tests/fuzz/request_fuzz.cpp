// Feeds arbitrary bytes as the body of POST /v1/chat/completions (first byte odd) or
// /v1/completions: parsing must return a request or throw ApiError (an HTTP 4xx), never crash
// or throw anything else; an accepted request's numbers must be in their ranges.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kiln/serve/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bool chat = data[0] & 1;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    kiln::serve::CompletionRequest r = kiln::serve::parse_completion_request(body, chat);
    kiln::serve::RequestLimits lim;
    if (r.max_tokens < 1 || r.max_tokens > lim.max_tokens_cap || r.n < 1 || r.n > lim.max_n ||
        (chat && r.messages.empty()))
      std::abort();
  } catch (const kiln::serve::ApiError& e) {
    if (e.status < 400 || e.status >= 500) std::abort();
  }
  return 0;
}
