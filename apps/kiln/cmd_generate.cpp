// kiln generate --model PATH (--prompt TEXT | --ids 1,2,3) [sampling flags]: continues a prompt,
// streaming the text as it is generated (docs/inference.md).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "id_list.h"
#include "infer_flags.h"
#include "kiln/infer/model_files.h"
#include "kiln/infer/speculative.h"
#include "kiln/models/open_model.h"

namespace kiln::app {
namespace {

struct GenerateArgs {
  ModelFlags model;
  infer::GenerateOptions gen;
  std::string prompt, ids, draft;
  bool stats = false, print_ids = false, ignore_eos = false;
  int64_t logprobs = 0, chunk = 256, draft_tokens = 4;
};

nlohmann::ordered_json token_json(const infer::Sample& s, const tokenizer::Tokenizer* tok) {
  auto text = [&](int32_t id) { return tok ? tok->decode(std::vector<int32_t>{id}) : ""; };
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (const infer::TokenLogprob& t : s.top)
    top.push_back({{"id", t.id}, {"text", text(t.id)}, {"logprob", t.logprob}});
  return {{"id", s.id}, {"text", text(s.id)}, {"logprob", s.logprob}, {"top", top}};
}

void run(GenerateArgs& a) {
  KILN_REQUIRE(a.prompt.empty() != a.ids.empty(), "generate: give exactly one of --prompt, --ids");
  auto model = models::open_model(a.model.model, a.model.init_seed, parse_dtype(a.model.dtype));
  std::optional<tokenizer::Tokenizer> tok =
      infer::model_tokenizer(a.model.model, a.model.tokenizer);
  std::vector<int32_t> prompt;
  if (!a.ids.empty()) {
    for (int64_t id : parse_id_list(a.ids, "--ids")) {
      KILN_REQUIRE(id >= INT32_MIN && id <= INT32_MAX, "--ids: ", id, " is not a token id");
      prompt.push_back(int32_t(id));
    }
  } else {
    KILN_REQUIRE(tok, "generate --prompt: '", a.model.model,
                 "' has no tokenizer.json; pass --tokenizer, or token ids with --ids");
    prompt = tok->encode(a.prompt, true);
  }
  a.gen.sampling.logprobs = a.logprobs;
  if (!a.ignore_eos)
    a.gen.stop_ids = infer::stop_token_ids(a.model.model, model->config(), tok ? &*tok : nullptr);
  infer::EngineOptions eo;
  eo.context = a.model.ctx;
  eo.kv_tokens = int64_t(prompt.size()) + a.gen.max_tokens;  // plan the pool for this run only
  eo.prefill_chunk = a.chunk;
  infer::Engine engine(*model, tok ? &*tok : nullptr, eo);
  std::unique_ptr<models::Decoder> draft;
  std::unique_ptr<infer::SpeculativeDecoder> spec;
  if (!a.draft.empty()) {
    draft = models::open_model(a.draft, a.model.init_seed, parse_dtype(a.model.dtype));
    spec = std::make_unique<infer::SpeculativeDecoder>(engine, *draft,
                                                       infer::SpeculativeOptions{a.draft_tokens});
  }
  bool stream_text = !a.print_ids && a.logprobs == 0;
  infer::GenerateResult r =
      engine.generate(prompt, a.gen, [&](size_t, const infer::Sample& s, std::string_view text) {
        if (stream_text) {
          std::fwrite(text.data(), 1, text.size(), stdout);
          std::fflush(stdout);
        }
        if (a.logprobs > 0)
          std::printf("%s\n", token_json(s, tok ? &*tok : nullptr).dump().c_str());
      });
  if (stream_text) std::printf("\n");
  if (a.print_ids) std::printf("%s\n", nlohmann::json(r.ids).dump().c_str());
  if (a.stats) std::fprintf(stderr, "%s\n", stats_line(r.stats, r.finish).c_str());
  if (a.stats && spec) std::fprintf(stderr, "%s\n", speculative_stats_line(spec->stats()).c_str());
}

RegisterCommand reg([](CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt, streaming the text");
  add_model_flags(cmd, a->model);
  cmd->add_option("--prompt", a->prompt, "prompt text (encoded with the tokenizer's BOS)");
  cmd->add_option("--ids", a->ids, "prompt as comma-separated token ids");
  add_generation_flags(cmd, a->gen);
  cmd->add_option("--logprobs", a->logprobs,
                  "print one JSON line per token with its log-probability and the N most likely");
  cmd->add_option("--prefill-chunk", a->chunk, "prompt tokens per forward");
  cmd->add_flag("--print-ids", a->print_ids, "print the generated ids as a JSON array, no text");
  cmd->add_flag("--ignore-eos", a->ignore_eos, "do not stop at the model's EOS ids");
  cmd->add_flag("--stats", a->stats, "print timings and KV-cache size to stderr");
  cmd->add_option("--draft", a->draft,
                  "draft model for speculative decoding (same vocabulary; a preset takes "
                  "--init-seed too)");
  cmd->add_option("--draft-tokens", a->draft_tokens, "tokens the draft proposes per step")
      ->capture_default_str();
  cmd->callback([a] { run(*a); });
});

}  // namespace
}  // namespace kiln::app
