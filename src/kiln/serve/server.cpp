#include "kiln/serve/server.h"

#include <httplib.h>

#include <random>
#include <thread>

#include "kiln/core/error.h"
#include "kiln/serve/exchange.h"
#include "kiln/serve/response.h"
#include "kiln/tokenizer/chat_template.h"

namespace kiln::serve {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string random_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%016llx%llu", prefix, (unsigned long long)rng(),
                (unsigned long long)++counter);
  return buf;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Server::Server(models::Decoder& model, const tokenizer::Tokenizer& tok,
               std::vector<int32_t> stop_ids, const ServerOptions& o, const SchedulerOptions& so)
    : tok_(tok), stop_ids_(std::move(stop_ids)), o_(o) {
  scheduler_ = std::make_unique<Scheduler>(model, &tok, so);
  http_ = std::make_unique<httplib::Server>();
  int threads = o_.http_threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  http_->set_payload_max_length(o_.max_body_bytes);
  routes();
}

Server::~Server() = default;

int Server::bind() {
  int port = o_.port == 0 ? http_->bind_to_any_port(o_.host)
                          : (http_->bind_to_port(o_.host, o_.port) ? o_.port : -1);
  KILN_REQUIRE(port > 0, "serve: cannot listen on ", o_.host, ":", o_.port,
               " (in use, or not an address of this machine); choose another --host or --port");
  return port;
}

void Server::run() {
  http_->listen_after_bind();
}

void Server::shutdown() {
  if (stopping_.exchange(true)) return;
  Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(o_.shutdown_grace_s));
  const SchedulerStats& s = scheduler_->stats();
  while (Clock::now() < end && (s.running > 0 || s.waiting > 0))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  scheduler_->shutdown();  // what is left ends as cancelled; its streams close
  while (active_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  http_->stop();
}

void Server::fail(httplib::Response& res, const ApiError& e, const std::string& endpoint) {
  res.status = e.status;
  res.set_content(e.body().dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json");
  metrics_.request(endpoint, e.status);
}

bool Server::authorized(const httplib::Request& req, httplib::Response& res) {
  if (o_.api_key.empty()) return true;
  if (req.get_header_value("Authorization") == "Bearer " + o_.api_key) return true;
  fail(res,
       ApiError(401, "invalid or missing API key (Authorization: Bearer ...)", "",
                "invalid_request_error", "invalid_api_key"),
       req.path);
  return false;
}

std::vector<int32_t> Server::prompt_ids(const CompletionRequest& r) const {
  if (!r.chat) {
    if (!r.prompt_ids.empty()) return r.prompt_ids;
    return tok_.encode(r.prompt, true);
  }
  if (tok_.chat_template().empty())
    throw ApiError(400, "this model has no chat template; use /v1/completions", "messages");
  tokenizer::ChatOptions co;
  co.add_generation_prompt = true;
  co.enable_thinking = r.enable_thinking;
  std::string text;
  try {
    text = tokenizer::apply_chat_template(tok_, r.messages, co);
  } catch (const std::exception& e) {
    throw ApiError(400, std::string("the chat template refused the messages: ") + e.what(),
                   "messages");
  }
  return tok_.encode(text, false);  // the template writes BOS itself
}

void Server::routes() {
  httplib::Server& h = *http_;
  if (o_.cors) {
    h.set_default_headers({{"Access-Control-Allow-Origin", "*"},
                           {"Access-Control-Allow-Headers", "Authorization, Content-Type"},
                           {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"}});
    h.Options(".*", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  }
  for (const WebAsset& a : web_assets()) {
    h.Get(a.path, [&a](const httplib::Request&, httplib::Response& res) {
      res.set_content(reinterpret_cast<const char*>(a.data), a.size, a.content_type);
    });
  }
  h.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    res.status = stopping_ ? 503 : 200;
    res.set_content(json{{"status", stopping_ ? "shutting down" : "ok"}}.dump(),
                    "application/json");
  });
  h.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(scheduler_->stats()), "text/plain; version=0.0.4");
  });
  h.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    json m = {{"id", o_.model_name},
              {"object", "model"},
              {"created", unix_now()},
              {"owned_by", "kiln"},
              {"max_model_len", scheduler_->context()}};
    res.set_content(json{{"object", "list"}, {"data", json::array({m})}}.dump(),
                    "application/json");
  });
  h.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    json b = json::parse(req.body, nullptr, false);
    const char* key = b.is_object() && b.contains("prompt") ? "prompt" : "content";
    if (!b.is_object() || !b.contains(key) || !b[key].is_string())
      return fail(res, ApiError(400, "expected {\"content\": \"text\"}", "content"), req.path);
    bool special =
        b.contains("add_special") && b["add_special"].is_boolean() && b["add_special"].get<bool>();
    std::vector<int32_t> ids = tok_.encode(b[key].get<std::string>(), special);
    res.set_content(json{{"tokens", ids}, {"count", ids.size()}}.dump(), "application/json");
  });
  h.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    json b = json::parse(req.body, nullptr, false);
    std::vector<int32_t> ids;
    bool ok = b.is_object() && b.contains("tokens") && b["tokens"].is_array();
    for (const json& t : ok ? b["tokens"] : json::array()) {
      ok &= t.is_number_integer() && t.get<int64_t>() >= 0 && t.get<int64_t>() < tok_.vocab_size();
      if (ok) ids.push_back(t.get<int32_t>());
    }
    if (!ok)
      return fail(res,
                  ApiError(400,
                           "expected {\"tokens\": [ids]} with ids in [0, " +
                               std::to_string(tok_.vocab_size()) + ")",
                           "tokens"),
                  req.path);
    res.set_content(
        json{{"content", tok_.decode(ids)}}.dump(-1, ' ', false, json::error_handler_t::replace),
        "application/json");
  });
  h.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    completions(req, res, true);
  });
  h.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    completions(req, res, false);
  });
  // Statuses httplib answers itself (413 for a body over --max-body, 404 for an unknown path,
  // 400 for a request it cannot parse) get the same OpenAI-style error body as ours.
  h.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg =
        res.status == 413 ? "request body over the server's limit of " +
                                std::to_string(o_.max_body_bytes) + " bytes (kiln serve --max-body)"
        : res.status == 404
            ? "no such endpoint: " + req.method + " " + req.path
            : "the server could not take this request (HTTP " + std::to_string(res.status) + ")";
    fail(res, ApiError(res.status, msg), "other");  // any path: not a metrics label of its own
  });
  h.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string msg = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          msg = e.what();
        } catch (...) {
        }
        fail(res, ApiError(500, msg, "", "server_error"), req.path);
      });
}

void Server::completions(const httplib::Request& req, httplib::Response& res, bool chat) {
  const std::string endpoint = req.path;
  Clock::time_point start = Clock::now();
  if (stopping_)
    return fail(res, ApiError(503, "the server is shutting down", "", "server_error"), endpoint);
  if (!authorized(req, res)) return;
  auto r = std::make_shared<CompletionRequest>();
  std::vector<int32_t> prompt;
  try {
    *r = parse_completion_request(req.body, chat, o_.limits);
    if (!r->model.empty() && r->model != o_.model_name)
      throw ApiError(
          404,
          "the model '" + r->model + "' does not exist; this server has '" + o_.model_name + "'",
          "model", "invalid_request_error", "model_not_found");
    prompt = prompt_ids(*r);
    if (prompt.empty()) throw ApiError(400, "the prompt is empty", chat ? "messages" : "prompt");
    if (int64_t(prompt.size()) >= scheduler_->context())
      throw ApiError(400,
                     "the prompt is " + std::to_string(prompt.size()) +
                         " tokens; this model's context holds " +
                         std::to_string(scheduler_->context()) + " (prompt plus reply)",
                     chat ? "messages" : "prompt", "invalid_request_error",
                     "context_length_exceeded");
  } catch (const ApiError& e) {
    return fail(res, e, endpoint);
  } catch (const std::exception& e) {
    return fail(res, ApiError(400, e.what()), endpoint);
  }
  auto ex = std::make_shared<Exchange>();
  // The reply may not run past the context: max_tokens is cut to what is left.
  int64_t room = scheduler_->context() - int64_t(prompt.size());
  for (int64_t i = 0; i < r->n; ++i) {
    SequenceRequest s;
    s.prompt = prompt;
    s.gen.sampling = r->sampling;
    s.gen.sampling.seed = r->sampling.seed + uint64_t(i);
    s.gen.max_tokens = std::min(r->max_tokens, room);
    if (!r->ignore_eos) s.gen.stop_ids = stop_ids_;
    s.gen.stop_strings = r->stop;
    s.deadline = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(o_.request_timeout_s));
    s.cancelled = ex->cancelled;
    int index = int(i);
    s.events.on_token = [ex, index](const infer::Sample& smp, std::string_view text) {
      ChoiceEvent e;
      e.index = index;
      e.text = std::string(text);
      e.has_sample = true;
      e.sample = smp;
      ex->push(std::move(e));
    };
    s.events.on_done = [ex, index](const std::string& finish, const std::string& tail,
                                   int64_t tokens, const std::string& error) {
      ChoiceEvent e;
      e.index = index;
      e.text = tail;
      e.done = true;
      e.finish = finish;
      e.tokens = tokens;
      e.error = error;
      ex->push(std::move(e));
    };
    bool queued = false;
    try {
      queued = scheduler_->submit(std::move(s));
    } catch (const std::exception& e) {
      *ex->cancelled = true;
      return fail(res, ApiError(400, e.what()), endpoint);
    }
    if (!queued) {
      *ex->cancelled = true;  // choices already queued leave at the next step
      return fail(res,
                  ApiError(429, "the server is busy (its queue is full); retry later", "",
                           "rate_limit_exceeded", "rate_limit_exceeded"),
                  endpoint);
    }
  }
  ++active_;
  auto builder =
      std::make_shared<ResponseBuilder>(*r, tok_, random_id(chat ? "chatcmpl-" : "cmpl-"),
                                        o_.model_name, unix_now(), int64_t(prompt.size()));
  auto first = std::make_shared<std::optional<Clock::time_point>>();
  bool stream = r->stream;
  // Both kinds are written by a provider, which sees a client that has gone away (a failed write,
  // or a socket no longer writable) and cancels its sequences at once.
  auto provider = [this, r, ex, builder, first, stream, start](size_t,
                                                               httplib::DataSink& sink) -> bool {
    std::deque<ChoiceEvent> evs = ex->take(std::chrono::milliseconds(50));
    if (evs.empty() && !sink.is_writable()) {
      *ex->cancelled = true;
      return false;
    }
    std::string out;
    for (const ChoiceEvent& e : evs) {
      if (e.has_sample && !*first) {
        *first = Clock::now();
        metrics_.time_to_first_token.observe(seconds(start, **first));
      }
      if (stream)
        out += builder->stream(e);
      else
        builder->add(e);
    }
    if (builder->all_done()) {
      if (stream) {
        if (!builder->error().empty())
          out +=
              "data: " + ApiError(500, builder->error(), "", "server_error").body().dump() + "\n\n";
        out += builder->stream_end();
      } else {
        out = builder->error().empty()
                  ? builder->whole().dump(-1, ' ', false, json::error_handler_t::replace)
                  : ApiError(500, builder->error(), "", "server_error").body().dump();
      }
    }
    if (!out.empty() && !sink.write(out.data(), out.size())) {
      *ex->cancelled = true;
      return false;
    }
    if (builder->all_done()) {
      Clock::time_point end = Clock::now();
      metrics_.request_latency.observe(seconds(start, end));
      int64_t toks = builder->completion_tokens();
      if (*first && toks > 1)
        metrics_.time_per_token.observe(seconds(**first, end) / double(toks - 1));
      sink.done();
    }
    return true;
  };
  auto release = [this, ex, endpoint](bool) {
    *ex->cancelled = true;  // a no-op for sequences that have ended
    metrics_.request(endpoint, 200);
    --active_;
  };
  res.set_chunked_content_provider(stream ? "text/event-stream" : "application/json", provider,
                                   release);
  if (stream) res.set_header("Cache-Control", "no-cache");
}

}  // namespace kiln::serve
