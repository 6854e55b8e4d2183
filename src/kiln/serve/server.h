#pragma once
// `kiln serve`: an OpenAI-compatible HTTP server over the continuous-batching scheduler, and the
// web chat page. Routes (docs/serving.md): POST /v1/chat/completions, /v1/completions (streamed
// as server-sent events, or whole), GET /v1/models, /health, /metrics, POST /tokenize,
// /detokenize, and the page's assets at /.
//
// Safety: binds 127.0.0.1 unless told otherwise; an optional API key (Authorization: Bearer);
// caps on body size, max_tokens and n; CORS headers only when enabled; a bad request gets a 4xx
// with OpenAI's error body and never disturbs other requests.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "kiln/serve/metrics.h"
#include "kiln/serve/request.h"
#include "kiln/serve/scheduler.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace kiln::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (bind() returns it)
  std::string model_name = "kiln";
  std::string api_key;  // empty: no authentication
  bool cors = false;
  size_t max_body_bytes = 1 << 20;
  double request_timeout_s = 600;
  double shutdown_grace_s = 10;  // in-flight requests get this long to finish on shutdown
  int http_threads = 128;        // each open stream holds one
  RequestLimits limits;
};

class Server {
 public:
  // `stop_ids` end a reply (the model's EOS ids).
  Server(models::Decoder& model, const tokenizer::Tokenizer& tok, std::vector<int32_t> stop_ids,
         const ServerOptions& o, const SchedulerOptions& so);
  ~Server();

  int bind();  // returns the port; throws kiln::Error when the address cannot be bound
  void run();  // serves until shutdown()
  // Graceful: new requests get 503, in-flight ones have shutdown_grace_s to finish and are then
  // cancelled (their streams end), then run() returns. Safe to call from any thread, once.
  void shutdown();
  const Scheduler& scheduler() const { return *scheduler_; }

 private:
  void routes();
  bool authorized(const httplib::Request& req, httplib::Response& res);
  void completions(const httplib::Request& req, httplib::Response& res, bool chat);
  std::vector<int32_t> prompt_ids(const CompletionRequest& r) const;
  void fail(httplib::Response& res, const ApiError& e, const std::string& endpoint);

  const tokenizer::Tokenizer& tok_;
  std::vector<int32_t> stop_ids_;
  ServerOptions o_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<httplib::Server> http_;
  Metrics metrics_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> active_{0};  // completion requests in flight
};

// The web page's files, embedded at build time (web/ -> web_assets.cpp): path -> (type, bytes).
struct WebAsset {
  const char* path;
  const char* content_type;
  const unsigned char* data;
  size_t size;
};
const std::vector<WebAsset>& web_assets();

}  // namespace kiln::serve
