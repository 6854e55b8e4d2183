// kiln serve --model PATH [--host H] [--port P] ...: the OpenAI-compatible HTTP server with
// continuous batching, and the web chat page at / (docs/serving.md).
#include <csignal>
#include <cstdio>
#include <thread>

#include "command.h"
#include "infer_flags.h"
#include "kiln/infer/model_files.h"
#include "kiln/models/open_model.h"
#include "kiln/serve/server.h"

namespace kiln::app {
namespace {

struct ServeArgs {
  ModelFlags model;
  serve::ServerOptions server;
  serve::SchedulerOptions sched;
  std::string name;
};

// Signals only set a flag: the shutdown (which waits for in-flight requests) runs on a thread.
volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int s) {
  g_signal = s;
}

void run(ServeArgs& a) {
  auto model = models::open_model(a.model.model, a.model.init_seed, parse_dtype(a.model.dtype));
  std::optional<tokenizer::Tokenizer> tok =
      infer::model_tokenizer(a.model.model, a.model.tokenizer);
  KILN_REQUIRE(tok, "serve: '", a.model.model,
               "' has no tokenizer.json; pass --tokenizer (the API speaks text)");
  std::vector<int32_t> stops = infer::stop_token_ids(a.model.model, model->config(), &*tok);
  // As for chat: a long-context model's full window for every batch slot would be a KV cache
  // far beyond most machines; --ctx and --kv-tokens raise it.
  a.sched.context = a.model.ctx > 0
                        ? a.model.ctx
                        : std::min<int64_t>(model->config().max_position_embeddings, 4096);
  a.server.model_name = a.name.empty() ? a.model.model : a.name;
  serve::Server server(*model, *tok, stops, a.server, a.sched);
  int port = server.bind();
  const infer::BlockPool& pool = server.scheduler().pool();
  std::fprintf(stderr,
               "kiln serve: context %lld tokens, batch up to %lld, KV cache %lld blocks of %lld "
               "tokens (%.1f MiB, allocated)\n",
               (long long)server.scheduler().context(), (long long)a.sched.max_batch,
               (long long)pool.num_blocks(), (long long)pool.block_size(),
               double(pool.bytes_total()) / (1 << 20));
  // Tests and scripts wait for this line (not a sleep): the socket is listening once it is out.
  std::printf("kiln serve: listening on http://%s:%d (model %s)\n", a.server.host.c_str(), port,
              a.server.model_name.c_str());
  std::fflush(stdout);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hung up is a failed write, not a crash
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::thread watcher([&] {
    while (g_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::fprintf(stderr, "kiln serve: shutting down (finishing in-flight requests)\n");
    server.shutdown();
  });
  server.run();
  if (g_signal == 0) g_signal = SIGTERM;  // run() ended on its own: let the watcher go
  watcher.join();
}

RegisterCommand reg([](CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server and web chat page");
  add_model_flags(cmd, a->model);
  serve::ServerOptions& s = a->server;
  cmd->add_option("--host", s.host, "address to listen on (default 127.0.0.1: this machine only)");
  cmd->add_option("--port", s.port, "port (0: any free one; the chosen port is printed)");
  cmd->add_option("--name", a->name, "model id the API reports and accepts (default: --model)");
  cmd->add_option("--api-key", s.api_key, "require 'Authorization: Bearer KEY'");
  cmd->add_flag("--cors", s.cors, "send CORS headers (let pages of other origins call the API)");
  cmd->add_option("--max-body", s.max_body_bytes, "largest request body in bytes");
  cmd->add_option("--max-tokens-cap", s.limits.max_tokens_cap, "largest max_tokens accepted");
  cmd->add_option("--default-max-tokens", s.limits.default_max_tokens,
                  "max_tokens when a request gives none");
  cmd->add_option("--timeout", s.request_timeout_s, "seconds a request may run");
  cmd->add_option("--shutdown-grace", s.shutdown_grace_s,
                  "seconds in-flight requests get to finish on SIGINT/SIGTERM");
  cmd->add_option("--max-batch", a->sched.max_batch, "sequences decoded together");
  cmd->add_option("--max-queue", a->sched.max_queue,
                  "sequences waiting for a slot; more get HTTP 429");
  cmd->add_option("--prefill-chunk", a->sched.prefill_chunk, "prompt tokens per step");
  cmd->add_option("--kv-tokens", a->sched.kv_tokens,
                  "KV-cache tokens over all sequences (default: max-batch x ctx)");
  cmd->add_option("--http-threads", s.http_threads, "HTTP worker threads (one per open stream)");
  cmd->callback([a] { run(*a); });
});

}  // namespace
}  // namespace kiln::app
