#pragma once
// Training a byte-level BPE tokenizer, written as the tokenizer.json and tokenizer_config.json
// that transformers and transformers.js load.
//
// Text is NFC-normalized, special tokens are cut out, and the rest is split with a pre-tokenizer
// regex (Qwen2's by default) into words, which are counted. Training starts from the 256 byte
// tokens (ids 0-255, in byte order) and repeatedly merges the most frequent adjacent pair
// (ties: the pair of smaller ids), counting pairs once per word occurrence, until the
// vocabulary reaches its size; the special tokens take the last ids.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kiln/tokenizer/tokenizer.h"

namespace kiln::tokenizer {

struct BpeTrainOptions {
  int32_t vocab_size = 8192;         // all tokens: 256 bytes + merges + special tokens
  std::vector<std::string> special;  // e.g. <|im_start|>, <|im_end|>, <think>, </think>, ...
  std::string pattern = "qwen2";     // "qwen2", "llama3", "gpt2", or a regex of your own
  int64_t min_frequency = 2;         // a pair seen fewer times is never merged
  int64_t model_max_length = 32768;  // written to tokenizer_config.json
  bool progress = true;              // a progress bar on stderr
};

class BpeTrainer {
 public:
  explicit BpeTrainer(BpeTrainOptions options);
  ~BpeTrainer();
  BpeTrainer(BpeTrainer&&) noexcept;
  BpeTrainer& operator=(BpeTrainer&&) noexcept;

  // Counts the words of a text (valid UTF-8; throws kiln::Error otherwise).
  void add_text(std::string_view text);
  // A .txt file (its whole text) or a .jsonl file (the "text" field of each line).
  void add_file(const std::string& path);
  // Learns the merges. Throws kiln::Error if vocab_size cannot hold the bytes and specials.
  void train();

  int64_t words() const;       // distinct words counted
  int32_t vocab_size() const;  // after train(): may be below the request if pairs ran out
  std::string tokenizer_json() const;
  std::string tokenizer_config_json() const;
  // Writes tokenizer.json and tokenizer_config.json into `dir` (created if needed), each through
  // a temporary file and a rename.
  void save(const std::string& dir) const;
  Tokenizer tokenizer() const;  // the trained tokenizer, read back from its own JSON

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace kiln::tokenizer
