// kiln bench infer --model A [--model B ...] [--prompt-lengths 128,512,2048] [--batch-sizes
// 1,4,16] [--gen 64] [--out DIR]: the generation engine's prefill time, decode speed and
// KV-cache size per model, as a table and plots (docs/inference.md).
#include <cstdio>
#include <filesystem>

#include "command.h"
#include "id_list.h"
#include "kiln/eval/infer_bench.h"
#include "kiln/models/open_model.h"

namespace kiln::app {
namespace {

struct BenchInferArgs {
  std::vector<std::string> models;
  std::string prompt_lengths = "128,512,2048", batch_sizes = "1,4,16", out = "bench_infer",
              dtype = "f32";
  int64_t gen = 64, block_size = 16, chunk = 256;
  uint64_t init_seed = 0;
};

// A series name: the folder's or the preset's name.
std::string model_name(const std::string& spec) {
  std::filesystem::path p(spec);
  if (p.filename().empty()) p = p.parent_path();
  return p.extension() == ".yaml" ? p.stem().string() : p.filename().string();
}

void run(const BenchInferArgs& a) {
  eval::InferBenchOptions o;
  o.prompt_lengths = parse_id_list(a.prompt_lengths, "--prompt-lengths");
  o.batch_sizes = parse_id_list(a.batch_sizes, "--batch-sizes");
  o.gen = a.gen;
  o.block_size = a.block_size;
  o.prefill_chunk = a.chunk;
  int64_t longest = *std::max_element(o.prompt_lengths.begin(), o.prompt_lengths.end()) + o.gen;
  std::vector<eval::InferBenchRow> rows;
  std::vector<eval::KvCurve> kv;
  for (const std::string& spec : a.models) {
    auto m = models::open_model(spec, a.init_seed, parse_dtype(a.dtype));
    std::string name = model_name(spec);
    std::fprintf(stderr, "%s: %s, %lld layers\n", name.c_str(),
                 eval::attention_kind(m->config()).c_str(),
                 (long long)m->config().num_hidden_layers);
    std::vector<eval::InferBenchRow> r =
        eval::bench_infer(*m, name, o, [](const eval::InferBenchRow& x) {
          std::fprintf(stderr, "  prompt %5lld batch %3lld: prefill %.4f s, decode %.1f tok/s\n",
                       (long long)x.prompt, (long long)x.batch, x.prefill_s, x.decode_tok_s);
        });
    rows.insert(rows.end(), r.begin(), r.end());
    kv.push_back(eval::kv_curve(*m, name, std::min(longest, m->config().max_position_embeddings),
                                o.block_size));
  }
  for (const std::string& p : eval::write_infer_bench(rows, kv, a.out))
    std::printf("wrote %s\n", p.c_str());
}

RegisterCommand reg([](CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto a = std::make_shared<BenchInferArgs>();
  CLI::App* c = bench->add_subcommand(
      "infer", "Sweep prompt length and batch size: prefill, decode and KV-cache table and plots");
  c->add_option("--model", a->models,
                "model folder or preset (repeatable: the models are drawn side by side)")
      ->required();
  c->add_option("--prompt-lengths", a->prompt_lengths, "prompt lengths, comma-separated")
      ->capture_default_str();
  c->add_option("--batch-sizes", a->batch_sizes, "sequences generated at once, comma-separated")
      ->capture_default_str();
  c->add_option("--gen", a->gen, "tokens generated per sequence")->capture_default_str();
  c->add_option("--out,-o", a->out, "folder for the table and plots")->capture_default_str();
  c->add_option("--dtype", a->dtype, "compute dtype: f32, bf16 or f16")->capture_default_str();
  c->add_option("--init-seed", a->init_seed, "init seed for presets");
  c->add_option("--block-size", a->block_size, "KV-cache block tokens")->capture_default_str();
  c->add_option("--prefill-chunk", a->chunk, "prompt tokens per forward")->capture_default_str();
  c->callback([a] { run(*a); });
});

}  // namespace
}  // namespace kiln::app
