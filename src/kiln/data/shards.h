#pragma once
// Token shards: a corpus tokenized once into flat files of uint16 (vocab <= 65536) or uint32 ids,
// documents separated by the EOS id, split into train and validation, described by meta.json.
// Training memory-maps them, so a corpus larger than RAM costs nothing to open.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/io/mmap.h"

namespace kiln::data {

using Encoder = std::function<std::vector<int32_t>(std::string_view)>;

struct PrepareOptions {
  std::vector<std::string> inputs;  // .txt (one document per file) or .jsonl (one per line)
  std::string jsonl_field = "text";
  std::string out_dir;
  double val_fraction = 0.05;  // the last fraction of the token stream becomes validation
  int64_t vocab_size = 0;
  int32_t eos_id = -1;  // appended after every document; -1: none
  bool progress = true;
};

struct PrepareStats {
  int64_t documents = 0, train_tokens = 0, val_tokens = 0, bytes = 0;
};

// Tokenizes inputs with `encode` and writes out_dir/{train.bin, val.bin, meta.json} atomically.
// Throws kiln::Error naming a missing or unreadable input or a bad JSONL line.
PrepareStats prepare_shards(const PrepareOptions& o, const Encoder& encode);

// One split of a prepared corpus, memory-mapped.
class TokenShard {
 public:
  TokenShard(const std::string& dir, const std::string& split);  // split: "train" or "val"
  int64_t size() const { return n_; }
  int64_t vocab_size() const { return vocab_; }
  int32_t eos_id() const { return eos_; }
  int32_t at(int64_t i) const {
    return wide_ ? int32_t(reinterpret_cast<const uint32_t*>(file_->data())[i])
                 : int32_t(reinterpret_cast<const uint16_t*>(file_->data())[i]);
  }

 private:
  std::shared_ptr<io::MappedFile> file_;
  int64_t n_ = 0, vocab_ = 0;
  int32_t eos_ = -1;
  bool wide_ = false;
};

}  // namespace kiln::data
