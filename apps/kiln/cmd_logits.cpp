// kiln logits --model PATH --ids 1,2,3 [--out FILE]: one forward pass, for checking a model
// against another implementation. Prints {"n_vocab": V, "last": [...]}; --out writes every
// position as raw little-endian f32 [T, V].
#include <cstdio>
#include <nlohmann/json.hpp>

#include "command.h"
#include "id_list.h"
#include "kiln/autograd/grad_mode.h"
#include "kiln/io/mmap.h"
#include "kiln/models/open_model.h"

namespace kiln::app {
namespace {

struct LogitsArgs {
  std::string model, ids, out, dtype = "f32";
  uint64_t seed = 0;
};

void run(const LogitsArgs& a) {
  std::vector<int64_t> ids = parse_id_list(a.ids, "--ids");
  auto model = models::open_model(a.model, a.seed, parse_dtype(a.dtype));
  int64_t v = model->config().vocab_size;
  for (int64_t id : ids)
    KILN_REQUIRE(id >= 0 && id < v, "--ids: token ", id, " out of range [0, ", v, ")");
  NoGradGuard ng;
  int64_t t = int64_t(ids.size());
  Tensor logits = model->forward(Tensor::from_vector(ids, {1, t})).logits.reshape({t, v});
  std::vector<float> all = logits.to_vector<float>();
  if (!a.out.empty())
    io::write_atomically(a.out, [&](std::FILE* f) {
      KILN_REQUIRE(std::fwrite(all.data(), sizeof(float), all.size(), f) == all.size(), a.out,
                   ": write failed");
    });
  nlohmann::ordered_json j = {{"n_vocab", v},
                              {"last", std::vector<float>(all.end() - v, all.end())}};
  std::printf("%s\n", j.dump().c_str());
}

RegisterCommand reg([](CLI::App& app) {
  auto args = std::make_shared<LogitsArgs>();
  CLI::App* cmd = app.add_subcommand("logits", "Logits of a token sequence, as JSON");
  cmd->add_option("--model", args->model,
                  "Hugging Face folder, .gguf file, or a preset name (random init with --seed)")
      ->required();
  cmd->add_option("--ids", args->ids, "comma-separated token ids")->required();
  cmd->add_option("--out", args->out, "also write all positions as raw f32 [T, V]");
  cmd->add_option("--seed", args->seed, "init seed for a preset");
  cmd->add_option("--dtype", args->dtype, "compute dtype: f32, bf16 or f16");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace kiln::app
