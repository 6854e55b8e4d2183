// kiln perplexity --model PATH --file F [--ctx N --stride S]: sliding-window perplexity of a text
// file (Hugging Face's guide); prints JSON.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "command.h"
#include "infer_flags.h"
#include "kiln/infer/model_files.h"
#include "kiln/infer/perplexity.h"
#include "kiln/models/open_model.h"

namespace kiln::app {
namespace {

struct PerplexityArgs {
  ModelFlags model;
  std::string file;
  int64_t stride = 0;
};

void run(const PerplexityArgs& a) {
  auto model = models::open_model(a.model.model, a.model.init_seed, parse_dtype(a.model.dtype));
  std::optional<tokenizer::Tokenizer> tok =
      infer::model_tokenizer(a.model.model, a.model.tokenizer);
  KILN_REQUIRE(tok, "perplexity: '", a.model.model, "' has no tokenizer.json; pass --tokenizer");
  std::ifstream f(a.file, std::ios::binary);
  KILN_REQUIRE(f, "perplexity: cannot open '", a.file, "'");
  std::string text(std::istreambuf_iterator<char>(f), {});
  std::vector<int32_t> ids = tok->encode(text, true);
  int64_t ctx = a.model.ctx > 0 ? a.model.ctx
                                : std::min<int64_t>(model->config().max_position_embeddings, 1024);
  int64_t stride = a.stride > 0 ? a.stride : ctx;
  infer::PerplexityResult r = infer::perplexity(*model, ids, ctx, stride);
  nlohmann::ordered_json j = {{"ppl", r.ppl},         {"nll", r.nll}, {"tokens", r.tokens},
                              {"windows", r.windows}, {"ctx", ctx},   {"stride", stride}};
  std::printf("%s\n", j.dump().c_str());
}

RegisterCommand reg([](CLI::App& app) {
  auto a = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Sliding-window perplexity of a text file");
  add_model_flags(cmd, a->model);
  cmd->add_option("--file", a->file, "text file")->required();
  cmd->add_option("--stride", a->stride, "tokens each window advances (default: --ctx)");
  cmd->callback([a] { run(*a); });
});

}  // namespace
}  // namespace kiln::app
