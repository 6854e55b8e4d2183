#pragma once
// The BPE model: a word (one pre-tokenized piece) starts as one symbol per byte (byte-level
// vocabularies) or per character (SentencePiece-style ones), and the adjacent pair with the
// lowest merge rank is merged until no ranked pair is left; equal ranks merge leftmost first.
// Merges are a hash table keyed by the pair of ids. A character missing from the vocabulary
// becomes its <0xXX> byte tokens (byte_fallback) or the unknown token.
//
// Results for words up to 256 bytes are cached (sharded, mutex-guarded), so encode() may be
// called from many threads on one model.
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiln::tokenizer {

// Hash and equality that let unordered_map<std::string, ...> be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// (left id, right id) -> (rank, merged id), open addressing.
class MergeTable {
 public:
  struct Value {
    uint32_t rank;
    int32_t id;
  };
  void reserve(size_t n);
  void insert(int32_t a, int32_t b, Value v);  // a later insert of the same pair replaces
  const Value* find(int32_t a, int32_t b) const {
    if (keys_.empty()) return nullptr;
    uint64_t k = key(a, b);
    for (size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == k) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  size_t size() const { return count_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  static uint64_t key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  static size_t hash(uint64_t k) { return size_t((k * 0x9E3779B97F4A7C15ull) >> 20); }
  std::vector<uint64_t> keys_;
  std::vector<Value> values_;
  size_t mask_ = 0, count_ = 0;
};

class BpeModel {
 public:
  enum class Input {
    kBytes,  // a word is raw bytes; symbol i starts as byte_token[byte]
    kChars,  // a word is text; symbol i starts as the vocabulary entry of character i
  };

  Input input = Input::kChars;
  StringIdMap vocab;  // token text -> id (the model's vocabulary)
  MergeTable merges;
  std::array<int32_t, 256> byte_token;  // kBytes: the token of each byte, or -1
  std::array<int32_t, 256> fallback;    // <0xXX> tokens, or -1
  bool byte_fallback = false, fuse_unk = false, ignore_merges = false;
  int32_t unk = -1;
  StringIdMap raw_vocab;  // kBytes with ignore_merges: raw bytes of a token -> id

  BpeModel();
  // Appends the ids of one word. Throws kiln::Error when a character cannot be encoded (no
  // byte fallback and no unknown token).
  void encode(std::string_view word, std::vector<int32_t>& out) const;
  // Builds the per-character table; call once after `vocab` is complete.
  void finish();

 private:
  void encode_uncached(std::string_view word, std::vector<int32_t>& out) const;
  void emit_unknown(std::string_view bytes, std::vector<int32_t>& out) const;

  std::unordered_map<char32_t, int32_t> char_token_;  // kChars: single-character tokens
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map;
  };
  static constexpr size_t kShards = 64, kShardCapacity = 4096, kMaxCachedWord = 256;
  std::unique_ptr<Shard[]> cache_;
};

}  // namespace kiln::tokenizer
