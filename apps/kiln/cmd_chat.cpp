// kiln chat --model PATH [--system TEXT] [--no-think]: a conversation in the terminal. Reads one
// user message per stdin line (a pipe works too), renders the conversation with the model's chat
// template and streams the reply. /reset clears the history, /exit ends. A model without a chat
// template (e.g. one trained by scripts/demo) gets plain continuation of the text so far.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "infer_flags.h"
#include "kiln/infer/model_files.h"
#include "kiln/models/open_model.h"
#include "kiln/tokenizer/chat_template.h"

namespace kiln::app {
namespace {

struct ChatArgs {
  ModelFlags model;
  infer::GenerateOptions gen;
  std::string system;
  bool no_think = false, stats = false;
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

class Chat {
 public:
  Chat(ChatArgs& a, models::Decoder& m, const tokenizer::Tokenizer& tok, infer::Engine& engine)
      : a_(a),
        tok_(tok),
        engine_(engine),
        session_(engine),
        templated_(!tok.chat_template().empty()) {
    a_.gen.stop_ids = infer::stop_token_ids(a.model.model, m.config(), &tok);
    reset();
  }
  bool templated() const { return templated_; }

  void reset() {
    session_.reset();
    messages_ = nlohmann::ordered_json::array();
    if (!a_.system.empty() && templated_)
      messages_.push_back({{"role", "system"}, {"content", a_.system}});
    transcript_ = templated_ ? "" : a_.system;
  }

  // One user turn: the reply is streamed to stdout.
  void turn(const std::string& user) {
    std::string text;
    if (templated_) {
      messages_.push_back({{"role", "user"}, {"content", user}});
      tokenizer::ChatOptions co;
      co.add_generation_prompt = true;
      if (a_.no_think) co.enable_thinking = false;
      text = tokenizer::apply_chat_template(tok_, messages_, co);
    } else {
      text = transcript_ + user;
    }
    // The template writes BOS itself; plain text gets the tokenizer's usual specials.
    std::vector<int32_t> ids = tok_.encode(text, !templated_);
    if (int64_t(ids.size()) >= engine_.context()) {
      if (templated_) messages_.erase(messages_.end() - 1);
      std::fprintf(stderr,
                   "error: the conversation is %zu tokens, the context holds %lld; /reset to "
                   "start again (or raise --ctx)\n",
                   ids.size(), (long long)engine_.context());
      return;
    }
    infer::GenerateResult r = engine_.generate(
        session_, ids, a_.gen, [](size_t, const infer::Sample&, std::string_view piece) {
          std::fwrite(piece.data(), 1, piece.size(), stdout);
          std::fflush(stdout);
        });
    std::printf("\n");
    std::fflush(stdout);
    if (a_.stats) std::fprintf(stderr, "%s\n", stats_line(r.stats, r.finish).c_str());
    if (templated_)
      messages_.push_back({{"role", "assistant"}, {"content", r.text}});
    else
      transcript_ = text + r.text;
  }

 private:
  ChatArgs& a_;
  const tokenizer::Tokenizer& tok_;
  infer::Engine& engine_;
  infer::Session session_;  // earlier turns stay cached: a turn feeds only what is new
  bool templated_;
  nlohmann::ordered_json messages_;
  std::string transcript_;  // plain continuation: everything so far
};

void run(ChatArgs& a) {
  auto model = models::open_model(a.model.model, a.model.init_seed, parse_dtype(a.model.dtype));
  std::optional<tokenizer::Tokenizer> tok =
      infer::model_tokenizer(a.model.model, a.model.tokenizer);
  KILN_REQUIRE(tok, "chat: '", a.model.model, "' has no tokenizer.json; pass --tokenizer");
  infer::EngineOptions eo;
  // A conversation grows turn by turn: plan the cache for a bounded context by default.
  eo.context = a.model.ctx > 0 ? a.model.ctx
                               : std::min<int64_t>(model->config().max_position_embeddings, 4096);
  infer::Engine engine(*model, &*tok, eo);
  Chat chat(a, *model, *tok, engine);
  bool tty = isatty(STDIN_FILENO);
  if (!chat.templated())
    std::fprintf(stderr,
                 "note: this model has no chat template (tokenizer_config.json has no "
                 "chat_template); each line is appended to the text so far and continued "
                 "plainly\n");
  if (tty) std::fprintf(stderr, "kiln chat: /reset clears the history, /exit ends\n");
  std::string line;
  while (true) {
    if (tty) {
      std::fprintf(stderr, "> ");
      std::fflush(stderr);
    }
    if (!std::getline(std::cin, line)) break;
    std::string msg = trim(line);
    if (msg.empty()) continue;
    if (msg == "/exit" || msg == "/quit") break;
    if (msg == "/reset") {
      chat.reset();
      std::fprintf(stderr, "(history cleared)\n");
      continue;
    }
    chat.turn(msg);
  }
}

RegisterCommand reg([](CLI::App& app) {
  auto a = std::make_shared<ChatArgs>();
  a->gen.max_tokens = 512;
  a->gen.sampling.temperature = 0.7;
  CLI::App* cmd = app.add_subcommand("chat", "Chat with a model in the terminal (stdin lines)");
  add_model_flags(cmd, a->model);
  add_generation_flags(cmd, a->gen);
  cmd->add_option("--system", a->system, "system message");
  cmd->add_flag("--no-think", a->no_think, "enable_thinking=false for templates that read it");
  cmd->add_flag("--stats", a->stats, "print timings and KV-cache size after each reply");
  cmd->callback([a] { run(*a); });
});

}  // namespace
}  // namespace kiln::app
