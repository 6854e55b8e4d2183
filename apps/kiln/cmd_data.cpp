// kiln data prepare: text or JSONL files -> memory-mapped token shards for training.
#include <cstdio>
#include <filesystem>

#include "command.h"
#include "kiln/data/shards.h"
#include "kiln/tokenizer/tokenizer.h"

namespace kiln::app {
namespace {

RegisterCommand reg([](CLI::App& app) {
  auto* data = app.add_subcommand("data", "prepare training data");
  data->require_subcommand(1);
  auto* prep = data->add_subcommand(
      "prepare", "tokenize text (.txt: one document per file) or JSONL (one per line) into shards");
  struct Args {
    std::string tokenizer, out, field = "text";
    std::vector<std::string> inputs;
    double val = 0.05;
  };
  auto a = std::make_shared<Args>();
  prep->add_option("--tokenizer", a->tokenizer, "tokenizer.json, its folder, or a .gguf")
      ->required();
  prep->add_option("--out", a->out, "output folder")->required();
  prep->add_option("--val-fraction", a->val, "share of tokens kept for validation")
      ->check(CLI::Range(0.0, 0.5));
  prep->add_option("--field", a->field, "JSONL field holding the text");
  prep->add_option("inputs", a->inputs, "input files")->required()->check(CLI::ExistingFile);
  prep->callback([a] {
    auto tok = tokenizer::Tokenizer::load(a->tokenizer);
    data::PrepareOptions o;
    o.inputs = a->inputs;
    o.jsonl_field = a->field;
    o.out_dir = a->out;
    o.val_fraction = a->val;
    o.vocab_size = tok.vocab_size();
    o.eos_id = tok.eos_id().value_or(-1);
    auto st = data::prepare_shards(o, [&](std::string_view text) { return tok.encode(text); });
    // Keep the tokenizer with the shards, so a run can always decode what it trained on.
    std::filesystem::path src = a->tokenizer;
    if (std::filesystem::is_directory(src)) src /= "tokenizer.json";
    if (src.extension() == ".json")
      std::filesystem::copy_file(src, std::filesystem::path(a->out) / "tokenizer.json",
                                 std::filesystem::copy_options::overwrite_existing);
    std::printf("%lld documents, %lld train tokens, %lld validation tokens -> %s\n",
                (long long)st.documents, (long long)st.train_tokens, (long long)st.val_tokens,
                a->out.c_str());
  });
});

}  // namespace
}  // namespace kiln::app
