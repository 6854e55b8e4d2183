#include "kiln/serve/prefix_cache.h"

namespace kiln::serve {

namespace {
constexpr uint64_t kRoot = 0x9e3779b97f4a7c15ull;
}

PrefixCache::PrefixCache(infer::BlockPool& pool, int64_t max_entries)
    : pool_(pool), max_entries_(max_entries) {}

PrefixCache::~PrefixCache() {
  clear();
}

uint64_t PrefixCache::key(uint64_t parent, std::span<const int32_t> block) const {
  uint64_t h = parent ^ 0xcbf29ce484222325ull;  // FNV-1a over the parent key's role and the ids
  for (int32_t t : block) {
    h ^= uint64_t(uint32_t(t));
    h *= 0x100000001b3ull;
  }
  return h == kRoot ? h + 1 : h;
}

std::vector<std::vector<int64_t>> PrefixCache::lookup(std::span<const int32_t> tokens,
                                                      int64_t max_blocks) {
  int64_t bs = pool_.block_size();
  size_t layers = size_t(pool_.layout().n_layers);
  std::vector<std::vector<int64_t>> out(layers);
  uint64_t parent = kRoot;
  for (int64_t k = 0; k < max_blocks && (k + 1) * bs <= int64_t(tokens.size()); ++k) {
    std::span<const int32_t> block = tokens.subspan(size_t(k * bs), size_t(bs));
    auto it = map_.find(key(parent, block));
    if (it == map_.end() || it->second.parent != parent ||
        !std::equal(block.begin(), block.end(), it->second.tokens.begin()))
      break;
    for (size_t l = 0; l < layers; ++l) out[l].push_back(it->second.blocks[l]);
    parent = it->first;
  }
  if (out[0].empty()) return {};
  return out;
}

void PrefixCache::insert(std::span<const int32_t> tokens, const infer::PagedKvCache& cache,
                         int64_t n_blocks) {
  int64_t bs = pool_.block_size();
  size_t layers = size_t(pool_.layout().n_layers);
  uint64_t parent = kRoot;
  for (int64_t k = 0; k < n_blocks; ++k) {
    std::span<const int32_t> block = tokens.subspan(size_t(k * bs), size_t(bs));
    uint64_t h = key(parent, block);
    auto it = map_.find(h);
    if (it == map_.end()) {
      if (int64_t(map_.size()) >= max_entries_) return;
      Entry e{parent, std::vector<int32_t>(block.begin(), block.end()), {}};
      for (size_t l = 0; l < layers; ++l) {
        e.blocks.push_back(cache.blocks(int64_t(l))[size_t(k)]);
        pool_.retain(e.blocks.back());
      }
      map_.emplace(h, std::move(e));
    } else if (it->second.parent != parent ||
               !std::equal(block.begin(), block.end(), it->second.tokens.begin())) {
      return;  // a collision: keep the entry there, cache nothing deeper on this path
    }
    parent = h;
  }
}

int64_t PrefixCache::idle_blocks() const {
  int64_t n = 0;
  for (const auto& [k, e] : map_)
    for (int64_t b : e.blocks) n += pool_.refs(b) == 1;
  return n;
}

void PrefixCache::clear() {
  for (auto& [k, e] : map_)
    for (int64_t b : e.blocks) pool_.release(b);
  map_.clear();
}

}  // namespace kiln::serve
