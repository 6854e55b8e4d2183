#pragma once
// Prompt prefixes shared between sequences: the full KV-cache blocks of finished prefills, kept
// under a chain hash of their tokens (block k's key hashes block k-1's key and block k's tokens),
// so a new prompt that starts with the same tokens (a system prompt, an earlier chat turn) adopts
// those blocks instead of computing them again. Only full blocks are shared, and a sequence
// writes only past them, so no block is ever copied on write.
//
// The cache holds one reference per block; a block only it holds is idle and may be dropped when
// the pool needs room (clear()). Keys are checked against the stored tokens, so a hash collision
// costs a miss, never a wrong answer.
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "kiln/infer/paged_kv_cache.h"

namespace kiln::serve {

class PrefixCache {
 public:
  PrefixCache(infer::BlockPool& pool, int64_t max_entries);
  ~PrefixCache();

  // Per layer, the cached blocks that hold the longest prefix of `tokens` in whole blocks, at
  // most `max_blocks` of them ({} on a miss).
  std::vector<std::vector<int64_t>> lookup(std::span<const int32_t> tokens, int64_t max_blocks);
  // Adds the first `n_blocks` full blocks of `cache` (which holds `tokens`) that are not cached
  // yet.
  void insert(std::span<const int32_t> tokens, const infer::PagedKvCache& cache, int64_t n_blocks);
  // Blocks held by the cache alone (what clear() would free).
  int64_t idle_blocks() const;
  void clear();
  int64_t entries() const { return int64_t(map_.size()); }

 private:
  struct Entry {
    uint64_t parent;
    std::vector<int32_t> tokens;  // of this block
    std::vector<int64_t> blocks;  // one per layer
  };
  uint64_t key(uint64_t parent, std::span<const int32_t> block) const;

  infer::BlockPool& pool_;
  int64_t max_entries_;
  std::unordered_map<uint64_t, Entry> map_;
};

}  // namespace kiln::serve
