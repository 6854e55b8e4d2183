#include "kiln/serve/request.h"

#include <cmath>
#include <limits>

namespace kiln::serve {

using json = nlohmann::json;

json ApiError::body() const {
  return {{"error",
           {{"message", what()},
            {"type", type},
            {"param", param.empty() ? json(nullptr) : json(param)},
            {"code", code.empty() ? json(nullptr) : json(code)}}}};
}

namespace {

ApiError bad(const std::string& param, const std::string& msg) {
  return ApiError(400, param.empty() ? msg : "'" + param + "': " + msg, param);
}

const json* field(const json& o, const char* name) {
  auto it = o.find(name);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

double number(const json& o, const char* name, double dflt, double lo, double hi) {
  const json* v = field(o, name);
  if (!v) return dflt;
  if (!v->is_number()) throw bad(name, "expected a number, found " + v->dump());
  double x = v->get<double>();
  if (!(x >= lo && x <= hi))
    throw bad(name, "found " + v->dump() + ", expected a number in [" + json(lo).dump() + ", " +
                        json(hi).dump() + "]");
  return x;
}

int64_t integer(const json& o, const char* name, int64_t dflt, int64_t lo, int64_t hi) {
  const json* v = field(o, name);
  if (!v) return dflt;
  if (!v->is_number_integer()) throw bad(name, "expected an integer, found " + v->dump());
  // Unsigned values above int64's range compare as large, not negative.
  if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(hi))
    throw bad(name, "found " + v->dump() + ", expected at most " + std::to_string(hi));
  int64_t x = v->get<int64_t>();
  if (x < lo || x > hi)
    throw bad(name, "found " + v->dump() + ", expected an integer in [" + std::to_string(lo) +
                        ", " + std::to_string(hi) + "]");
  return x;
}

bool boolean(const json& o, const char* name, bool dflt) {
  const json* v = field(o, name);
  if (!v) return dflt;
  if (!v->is_boolean()) throw bad(name, "expected true or false, found " + v->dump());
  return v->get<bool>();
}

// Content as a string, or an array of parts of which the text ones are joined.
std::string content_text(const json& c, const std::string& param) {
  if (c.is_string()) return c.get<std::string>();
  if (c.is_array()) {
    std::string s;
    for (const json& part : c) {
      if (!part.is_object() || !part.contains("type") || part["type"] != "text" ||
          !part.contains("text") || !part["text"].is_string())
        throw bad(param, "expected text parts {\"type\": \"text\", \"text\": \"...\"}");
      s += part["text"].get<std::string>();
    }
    return s;
  }
  throw bad(param, "expected a string or an array of text parts, found " + c.dump());
}

nlohmann::ordered_json parse_messages(const json& body) {
  const json* m = field(body, "messages");
  if (!m) throw bad("messages", "missing; expected an array of {role, content}");
  if (!m->is_array()) throw bad("messages", "expected an array, found " + m->dump());
  if (m->empty()) throw bad("messages", "empty; expected at least one message");
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < m->size(); ++i) {
    const json& msg = (*m)[i];
    std::string p = "messages[" + std::to_string(i) + "]";
    if (!msg.is_object()) throw bad(p, "expected an object {role, content}");
    const json* role = field(msg, "role");
    if (!role || !role->is_string()) throw bad(p + ".role", "expected a string");
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";
    if (r != "system" && r != "user" && r != "assistant")
      throw bad(p + ".role", "found '" + r + "', expected system, user or assistant");
    const json* content = field(msg, "content");
    std::string text = content ? content_text(*content, p + ".content") : "";
    if (!content && r != "assistant") throw bad(p + ".content", "missing");
    out.push_back({{"role", r}, {"content", text}});
  }
  return out;
}

void parse_prompt(const json& body, CompletionRequest& r) {
  const json* p = field(body, "prompt");
  if (!p) throw bad("prompt", "missing; expected a string or an array of token ids");
  if (p->is_string()) {
    r.prompt = p->get<std::string>();
    return;
  }
  // One string in an array, or token ids: one prompt per request (n gives several answers).
  if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    r.prompt = (*p)[0].get<std::string>();
    return;
  }
  if (p->is_array() && !p->empty()) {
    for (const json& id : *p) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
          id.get<int64_t>() > std::numeric_limits<int32_t>::max())
        throw bad("prompt", "expected a string or an array of token ids, found " + id.dump());
      r.prompt_ids.push_back(int32_t(id.get<int64_t>()));
    }
    return;
  }
  throw bad("prompt", "expected a string or a non-empty array of token ids, found " + p->dump());
}

std::vector<std::string> parse_stop(const json& body) {
  const json* s = field(body, "stop");
  if (!s) return {};
  std::vector<std::string> out;
  if (s->is_string()) {
    out.push_back(s->get<std::string>());
  } else if (s->is_array() && s->size() <= 4) {
    for (const json& x : *s) {
      if (!x.is_string()) throw bad("stop", "expected strings, found " + x.dump());
      out.push_back(x.get<std::string>());
    }
  } else {
    throw bad("stop", "expected a string or an array of up to 4 strings");
  }
  for (const std::string& x : out)
    if (x.empty()) throw bad("stop", "an empty stop string would stop at once");
  return out;
}

}  // namespace

CompletionRequest parse_completion_request(std::string_view text, bool chat,
                                           const RequestLimits& lim) {
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) throw ApiError(400, "the request body is not valid JSON");
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  CompletionRequest r;
  r.chat = chat;
  const json* model = field(body, "model");
  if (model && !model->is_string()) throw bad("model", "expected a string");
  if (model) r.model = model->get<std::string>();
  if (chat)
    r.messages = parse_messages(body);
  else
    parse_prompt(body, r);
  int64_t cap = lim.max_tokens_cap;
  r.max_tokens = integer(body, "max_tokens", lim.default_max_tokens, 1, cap);
  if (chat) r.max_tokens = integer(body, "max_completion_tokens", r.max_tokens, 1, cap);
  infer::SamplingParams& s = r.sampling;
  s.temperature = number(body, "temperature", 1.0, 0, 2);
  s.top_p = number(body, "top_p", 1.0, 0, 1);
  if (s.top_p == 0) throw bad("top_p", "found 0, expected a number in (0, 1]");
  s.top_k = integer(body, "top_k", 0, 0, std::numeric_limits<int32_t>::max());
  s.min_p = number(body, "min_p", 0.0, 0, 1);
  s.presence_penalty = number(body, "presence_penalty", 0.0, -2, 2);
  s.frequency_penalty = number(body, "frequency_penalty", 0.0, -2, 2);
  s.repetition_penalty = number(body, "repetition_penalty", 1.0, 1e-6, 100);
  const json* seed = field(body, "seed");
  if (seed && !seed->is_number_integer()) throw bad("seed", "expected an integer");
  if (seed)
    s.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : uint64_t(seed->get<int64_t>());
  r.stop = parse_stop(body);
  r.n = integer(body, "n", 1, 1, lim.max_n);
  r.stream = boolean(body, "stream", false);
  r.ignore_eos = boolean(body, "ignore_eos", false);
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) throw bad("stream_options", "expected an object");
    r.include_usage = boolean(*so, "include_usage", false);
  }
  if (chat) {
    r.logprobs = boolean(body, "logprobs", false);
    r.top_logprobs = integer(body, "top_logprobs", 0, 0, 20);
    if (r.top_logprobs > 0 && !r.logprobs) throw bad("top_logprobs", "needs \"logprobs\": true");
    if (const json* kw = field(body, "chat_template_kwargs")) {
      if (!kw->is_object()) throw bad("chat_template_kwargs", "expected an object");
      if (field(*kw, "enable_thinking")) r.enable_thinking = boolean(*kw, "enable_thinking", true);
    }
  } else {
    // Completions: logprobs is how many alternatives to return (0 to 5).
    const json* lp = field(body, "logprobs");
    if (lp && lp->is_boolean()) {
      r.logprobs = lp->get<bool>();
    } else {
      r.top_logprobs = integer(body, "logprobs", 0, 0, 5);
      r.logprobs = lp != nullptr;
    }
  }
  s.logprobs = r.top_logprobs;
  try {
    s.validate();
  } catch (const std::exception& e) {
    throw ApiError(400, e.what());
  }
  return r;
}

}  // namespace kiln::serve
