#include "kiln/serve/response.h"

namespace kiln::serve {

using ojson = nlohmann::ordered_json;

ResponseBuilder::ResponseBuilder(const CompletionRequest& r, const tokenizer::Tokenizer& tok,
                                 std::string id, std::string model, int64_t created,
                                 int64_t prompt_tokens)
    : r_(r),
      tok_(tok),
      id_(std::move(id)),
      model_(std::move(model)),
      created_(created),
      prompt_tokens_(prompt_tokens),
      choices_(size_t(r.n)) {}

std::string ResponseBuilder::sse(const ojson& j) {
  return "data: " + j.dump(-1, ' ', false, ojson::error_handler_t::replace) + "\n\n";
}

std::string ResponseBuilder::finish_reason(const std::string& f) {
  // A timed-out reply was cut short, as by max_tokens.
  return f == "stop" ? "stop" : "length";
}

int64_t ResponseBuilder::completion_tokens() const {
  int64_t n = 0;
  for (const Choice& c : choices_) n += c.tokens;
  return n;
}

ojson ResponseBuilder::usage() const {
  int64_t c = completion_tokens();
  return {{"prompt_tokens", prompt_tokens_},
          {"completion_tokens", c},
          {"total_tokens", prompt_tokens_ + c}};
}

ojson ResponseBuilder::logprob_entry(const infer::Sample& s) const {
  auto one = [&](int32_t id, float lp) {
    std::string t = tok_.decode(std::vector<int32_t>{id});
    ojson bytes = ojson::array();
    for (unsigned char ch : t) bytes.push_back(int(ch));
    return ojson{{"token", t}, {"logprob", lp}, {"bytes", bytes}};
  };
  ojson e = one(s.id, s.logprob);
  ojson top = ojson::array();
  for (const infer::TokenLogprob& t : s.top) top.push_back(one(t.id, t.logprob));
  e["top_logprobs"] = top;
  return e;
}

ojson ResponseBuilder::chunk(int index, ojson body, const std::string& finish,
                             ojson logprobs) const {
  ojson choice = {{"index", index}};
  if (r_.chat)
    choice["delta"] = std::move(body);
  else
    choice["text"] = std::move(body);
  choice["logprobs"] = std::move(logprobs);
  choice["finish_reason"] = finish.empty() ? ojson(nullptr) : ojson(finish_reason(finish));
  ojson c = {{"id", id_},
             {"object", r_.chat ? "chat.completion.chunk" : "text_completion"},
             {"created", created_},
             {"model", model_},
             {"choices", ojson::array({choice})}};
  if (r_.include_usage) c["usage"] = nullptr;
  return c;
}

std::string ResponseBuilder::stream(const ChoiceEvent& e) {
  Choice& c = choices_.at(size_t(e.index));
  std::string out;
  if (r_.chat && !c.started) {
    out += sse(chunk(e.index, {{"role", "assistant"}, {"content", ""}}, "", nullptr));
    c.started = true;
  }
  ReasoningSplit::Piece p;
  if (r_.chat)
    p = c.split.push(e.text);
  else
    p.content = e.text;
  if (e.done && r_.chat) {
    ReasoningSplit::Piece rest = c.split.finish();
    p.reasoning += rest.reasoning;
    p.content += rest.content;
  }
  ojson lp = nullptr;
  if (r_.logprobs && e.has_sample)
    lp = r_.chat ? ojson{{"content", ojson::array({logprob_entry(e.sample)})}}
                 : ojson{{"tokens", ojson::array({logprob_entry(e.sample)["token"]})},
                         {"token_logprobs", ojson::array({e.sample.logprob})}};
  if (!p.reasoning.empty())
    out += sse(chunk(e.index, {{"reasoning_content", p.reasoning}}, "", nullptr));
  if (!p.content.empty() || !lp.is_null())
    out += sse(chunk(e.index, r_.chat ? ojson{{"content", p.content}} : ojson(p.content), "", lp));
  if (e.done) {
    c.tokens = e.tokens;
    c.finish = e.finish;
    ++done_;
    if (!e.error.empty() && error_.empty()) error_ = e.error;
    out += sse(chunk(e.index, r_.chat ? ojson::object() : ojson(""), e.finish, nullptr));
  }
  return out;
}

std::string ResponseBuilder::stream_end() const {
  std::string out;
  if (r_.include_usage) {
    ojson u = {{"id", id_},
               {"object", r_.chat ? "chat.completion.chunk" : "text_completion"},
               {"created", created_},
               {"model", model_},
               {"choices", ojson::array()},
               {"usage", usage()}};
    out += sse(u);
  }
  return out + "data: [DONE]\n\n";
}

void ResponseBuilder::add(const ChoiceEvent& e) {
  Choice& c = choices_.at(size_t(e.index));
  ReasoningSplit::Piece p;
  if (r_.chat) {
    p = c.split.push(e.text);
    if (e.done) {
      ReasoningSplit::Piece rest = c.split.finish();
      p.reasoning += rest.reasoning;
      p.content += rest.content;
    }
  } else {
    p.content = e.text;
  }
  c.content += p.content;
  c.reasoning += p.reasoning;
  if (r_.logprobs && e.has_sample) c.logprobs.push_back(logprob_entry(e.sample));
  if (e.done) {
    c.tokens = e.tokens;
    c.finish = e.finish;
    ++done_;
    if (!e.error.empty() && error_.empty()) error_ = e.error;
  }
}

ojson ResponseBuilder::whole() const {
  ojson choices = ojson::array();
  for (size_t i = 0; i < choices_.size(); ++i) {
    const Choice& c = choices_[i];
    ojson ch = {{"index", int(i)}};
    ojson lp = nullptr;
    if (r_.logprobs) {
      if (r_.chat) {
        lp = {{"content", c.logprobs}};
      } else {
        ojson toks = ojson::array(), lps = ojson::array();
        for (const ojson& e : c.logprobs) {
          toks.push_back(e["token"]);
          lps.push_back(e["logprob"]);
        }
        lp = {{"tokens", toks}, {"token_logprobs", lps}};
      }
    }
    if (r_.chat) {
      ojson msg = {{"role", "assistant"}, {"content", c.content}};
      if (!c.reasoning.empty()) msg["reasoning_content"] = c.reasoning;
      ch["message"] = msg;
    } else {
      ch["text"] = c.content;
    }
    ch["logprobs"] = lp;
    ch["finish_reason"] = finish_reason(c.finish);
    choices.push_back(ch);
  }
  return {{"id", id_},           {"object", r_.chat ? "chat.completion" : "text_completion"},
          {"created", created_}, {"model", model_},
          {"choices", choices},  {"usage", usage()}};
}

}  // namespace kiln::serve
