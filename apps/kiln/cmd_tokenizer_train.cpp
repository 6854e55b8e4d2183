// kiln tokenizer train: learns a byte-level BPE tokenizer from text files.
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "command.h"
#include "kiln/core/error.h"
#include "kiln/tokenizer/train_bpe.h"

namespace {

struct TrainCommandOptions {
  kiln::tokenizer::BpeTrainOptions train;
  std::string special, output = "tokenizer";
  std::vector<std::string> files;
  bool quiet = false;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

kiln::app::RegisterCommand tokenizer_cmd([](CLI::App& app) {
  auto o = std::make_shared<TrainCommandOptions>();
  auto* group = app.add_subcommand("tokenizer", "Tokenizer tools");
  group->require_subcommand(1);
  auto* c = group->add_subcommand(
      "train", "Train a byte-level BPE tokenizer; writes tokenizer.json and tokenizer_config.json");
  c->add_option("--vocab-size", o->train.vocab_size,
                "total vocabulary: 256 bytes + merges + special tokens")
      ->required()
      ->check(CLI::Range(256, 1 << 24));
  c->add_option("--special", o->special,
                "comma-separated special tokens, e.g. '<|im_start|>,<|im_end|>,<think>,</think>,"
                "<|endoftext|>'");
  c->add_option("--pattern", o->train.pattern,
                "pre-tokenizer: qwen2 (default), llama3, gpt2, or a regex");
  c->add_option("--min-frequency", o->train.min_frequency, "merge only pairs seen this often")
      ->check(CLI::PositiveNumber);
  c->add_option("-o,--output", o->output, "folder to write (default: tokenizer)");
  c->add_flag("-q,--quiet", o->quiet, "no progress bar");
  c->add_option("files", o->files, ".txt files, or .jsonl files with a \"text\" field")
      ->required()
      ->check(CLI::ExistingFile);
  c->callback([o] {
    o->train.special = split_commas(o->special);
    o->train.progress = !o->quiet;
    kiln::tokenizer::BpeTrainer trainer(o->train);
    for (const std::string& f : o->files) trainer.add_file(f);
    if (!o->quiet)
      std::fprintf(stderr, "counted %lld distinct words\n", (long long)trainer.words());
    trainer.train();
    trainer.save(o->output);
    std::fprintf(stderr, "wrote %s/tokenizer.json (%d tokens) and tokenizer_config.json\n",
                 o->output.c_str(), trainer.vocab_size());
  });
});

}  // namespace
