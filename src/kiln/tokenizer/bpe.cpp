#include "kiln/tokenizer/bpe.h"

#include <algorithm>

#include "kiln/core/error.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

void MergeTable::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  std::vector<uint64_t> old_keys(cap, kEmpty);
  std::vector<Value> old_values(cap);
  old_keys.swap(keys_);
  old_values.swap(values_);
  mask_ = cap - 1;
  count_ = 0;
  for (size_t i = 0; i < old_keys.size(); ++i)
    if (old_keys[i] != kEmpty)
      insert(int32_t(old_keys[i] >> 32), int32_t(uint32_t(old_keys[i])), old_values[i]);
}

void MergeTable::insert(int32_t a, int32_t b, Value v) {
  if ((count_ + 1) * 2 > keys_.size()) reserve(count_ + 1);
  uint64_t k = key(a, b);
  for (size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
    if (keys_[i] == kEmpty) {
      keys_[i] = k;
      values_[i] = v;
      ++count_;
      return;
    }
    if (keys_[i] == k) {
      values_[i] = v;
      return;
    }
  }
}

BpeModel::BpeModel() : cache_(new Shard[kShards]) {
  byte_token.fill(-1);
  fallback.fill(-1);
}

void BpeModel::finish() {
  char_token_.clear();
  for (const auto& [text, id] : vocab) {
    if (text.empty() || find_invalid_utf8(text) != kValidUtf8) continue;
    size_t i = 0;
    char32_t cp = next_code_point(text, i);
    if (i == text.size()) char_token_[cp] = id;
  }
}

namespace {

struct Symbol {
  int32_t id;  // -1: a character the vocabulary lacks
  int32_t prev, next;
  uint32_t begin, len;  // bytes of the word; len 0 once merged into its left neighbour
};

struct Candidate {
  uint32_t rank, pos;
  int32_t left, right, merged;
};

struct Later {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

struct Scratch {
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace

void BpeModel::emit_unknown(std::string_view bytes, std::vector<int32_t>& out) const {
  if (byte_fallback) {
    bool all = true;
    for (char b : bytes) all = all && fallback[static_cast<unsigned char>(b)] >= 0;
    if (all) {
      for (char b : bytes) out.push_back(fallback[static_cast<unsigned char>(b)]);
      return;
    }
  }
  KILN_REQUIRE(unk >= 0, "tokenizer: the vocabulary has no token for '", to_valid_utf8(bytes),
               "' and neither byte fallback nor an unknown token to stand in for it");
  out.push_back(unk);
}

void BpeModel::encode_uncached(std::string_view word, std::vector<int32_t>& out) const {
  if (ignore_merges) {
    const StringIdMap& whole = input == Input::kBytes ? raw_vocab : vocab;
    auto it = whole.find(word);
    if (it != whole.end()) {
      out.push_back(it->second);
      return;
    }
  }
  Scratch& s = scratch();
  auto& sym = s.symbols;
  sym.clear();
  if (input == Input::kBytes) {
    for (size_t i = 0; i < word.size(); ++i)
      sym.push_back({byte_token[static_cast<unsigned char>(word[i])], int32_t(sym.size()) - 1,
                     int32_t(sym.size()) + 1, uint32_t(i), 1});
  } else {
    for (size_t i = 0; i < word.size();) {
      size_t j = i;
      auto it = char_token_.find(next_code_point(word, j));
      sym.push_back({it == char_token_.end() ? -1 : it->second, int32_t(sym.size()) - 1,
                     int32_t(sym.size()) + 1, uint32_t(i), uint32_t(j - i)});
      i = j;
    }
  }
  if (sym.empty()) return;
  sym.back().next = -1;

  auto& heap = s.heap;
  heap.clear();
  auto consider = [&](int32_t l) {
    int32_t r = sym[size_t(l)].next;
    if (r < 0) return;
    int32_t a = sym[size_t(l)].id, b = sym[size_t(r)].id;
    if (a < 0 || b < 0) return;
    if (const MergeTable::Value* v = merges.find(a, b)) {
      heap.push_back({v->rank, uint32_t(l), a, b, v->id});
      std::push_heap(heap.begin(), heap.end(), Later{});
    }
  };
  for (size_t i = 0; i + 1 < sym.size(); ++i) consider(int32_t(i));
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), Later{});
    Candidate c = heap.back();
    heap.pop_back();
    Symbol& l = sym[c.pos];
    if (l.len == 0 || l.id != c.left || l.next < 0) continue;
    Symbol& r = sym[size_t(l.next)];
    if (r.id != c.right) continue;
    l.id = c.merged;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (l.next >= 0) sym[size_t(l.next)].prev = int32_t(c.pos);
    if (l.prev >= 0) consider(l.prev);
    consider(int32_t(c.pos));
  }
  bool last_unk = false;
  for (int32_t i = 0; i >= 0; i = sym[size_t(i)].next) {
    const Symbol& x = sym[size_t(i)];
    if (x.id >= 0) {
      out.push_back(x.id);
      last_unk = false;
      continue;
    }
    size_t before = out.size();
    emit_unknown(word.substr(x.begin, x.len), out);
    bool is_unk = out.size() == before + 1 && out.back() == unk;
    if (is_unk && last_unk && fuse_unk) out.pop_back();
    last_unk = is_unk;
  }
}

void BpeModel::encode(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (word.size() > kMaxCachedWord) return encode_uncached(word, out);
  Shard& shard = cache_[std::hash<std::string_view>{}(word) % kShards];
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.map.find(word);
    if (it != shard.map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  size_t start = out.size();
  encode_uncached(word, out);
  std::vector<int32_t> ids(out.begin() + std::ptrdiff_t(start), out.end());
  std::lock_guard<std::mutex> lock(shard.mu);
  if (shard.map.size() >= kShardCapacity) shard.map.clear();
  shard.map.emplace(std::string(word), std::move(ids));
}

}  // namespace kiln::tokenizer
