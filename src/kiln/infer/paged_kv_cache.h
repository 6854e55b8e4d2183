#pragma once
// The paged KV cache: one pool of fixed-size blocks shared by every sequence, and per sequence
// and layer a block table naming the blocks that hold its keys and values in order. A block holds
// block_size tokens of one layer (k and v, [kv_heads, block_size, head_dim] each). Blocks return
// to the pool when a sequence ends or resets, and sliding-window layers return the blocks that lie
// wholly before their window as the sequence grows, so a long generation holds only its window.
//
// The pool is allocated once, up front, at the size the caller plans (Memory is planned, not
// discovered): running out is a kiln::Error naming the setting to raise.
#include <cstdint>
#include <vector>

#include "kiln/infer/paged_attention.h"
#include "kiln/models/config.h"
#include "kiln/nn/kv_cache.h"

namespace kiln::infer {

// What one token of one layer needs in the cache, and which layers slide.
struct KvLayout {
  int64_t n_layers = 0, kv_heads = 0, head_dim = 0;
  DType dtype = DType::F32;
  std::vector<int64_t> windows;  // per layer: keys a query sees, 0 = all
};

// From a model config. ALiBi models keep every key: their bias is built for the whole sequence
// once per forward, so a layer may not return fewer keys than the others.
KvLayout kv_layout(const models::ModelConfig& c, DType dt);

class BlockPool {
 public:
  BlockPool(const KvLayout& layout, int64_t block_size, int64_t num_blocks);

  // Blocks that `seqs` sequences of up to `tokens` tokens each need, when the model is fed at
  // most `chunk` tokens per forward (sliding layers hold their window plus one chunk).
  static int64_t blocks_needed(const KvLayout& layout, int64_t block_size, int64_t tokens,
                               int64_t chunk, int64_t seqs = 1);

  int64_t allocate();  // throws kiln::Error when none is free
  // Writes every page of the pool now, so that the first prefill does not pay for the kernel
  // zeroing fresh pages as it first writes them (a tenth of a 512-token prefill of Qwen3-0.6B
  // q4_0). llama.cpp likewise clears its KV buffer when it creates a context. For pools planned
  // to one run's need (see Engine); the server's pool, planned for its peak, fills as it goes.
  void touch();
  // Blocks are reference-counted so that sequences with a common prompt prefix can share its
  // full blocks (serve's prefix cache): allocate() hands out one reference, retain() adds one,
  // release() drops one and frees the block with the last. A shared block is never written: a
  // sequence writes only past the full blocks it adopted.
  void retain(int64_t block);
  void release(int64_t block);
  int32_t refs(int64_t block) const { return refs_[size_t(block)]; }

  // Views of one block: [kv_heads, block_size, head_dim].
  Tensor k(int64_t block) const { return storage_.select(0, block).select(0, 0); }
  Tensor v(int64_t block) const { return storage_.select(0, block).select(0, 1); }
  // The same as raw pointers, for the decode kernel that reads blocks in place every step (an
  // f32 pool): no tensor views built per block.
  const float* k_data(int64_t block) const {
    return storage_.data<float>() + block * storage_.stride(0);
  }
  const float* v_data(int64_t block) const { return k_data(block) + storage_.stride(1); }

  const KvLayout& layout() const { return layout_; }
  int64_t block_size() const { return block_size_; }
  int64_t num_blocks() const { return num_blocks_; }
  int64_t free_blocks() const { return int64_t(free_.size()); }
  int64_t used_blocks() const { return num_blocks_ - free_blocks(); }
  int64_t peak_used_blocks() const { return peak_used_; }

  // Bytes: of the whole pool, of one block, of one token in one layer (k + v), and of one token
  // in every layer (what a full-attention model adds per generated token).
  int64_t bytes_total() const { return num_blocks_ * block_bytes(); }
  int64_t block_bytes() const { return block_size_ * bytes_per_token_layer(); }
  int64_t bytes_per_token_layer() const;
  int64_t bytes_per_token() const { return layout_.n_layers * bytes_per_token_layer(); }

 private:
  KvLayout layout_;
  int64_t block_size_, num_blocks_, peak_used_ = 0;
  Tensor storage_;             // [num_blocks, 2 (k, v), kv_heads, block_size, head_dim]
  std::vector<int64_t> free_;  // a stack: the most recently freed block is reused first
  std::vector<int32_t> refs_;  // references per block; 0 = free
};

// The cache of one sequence (batch size 1) over a shared pool: what Decoder::forward takes.
//
// A decode step (one query token, f32) attends over the blocks in place (attend()). Other reads
// (prefill chunks, other dtypes, ALiBi) gather the sequence's blocks of the layer into one
// contiguous buffer for the attention kernel. The buffer is shared by all layers and reused
// between steps, so a step allocates nothing once it has grown; the tensors append() returns are
// therefore valid only until the next append, which is why the cache refuses to run with grad mode
// on (autograd would keep them for backward).
class PagedKvCache : public nn::KvCache {
 public:
  // `rollback`: tokens kept before each sliding window beyond what the next query needs, so that
  // truncate() can cut that far back (speculative decoding's draft drops its rejected proposals).
  explicit PagedKvCache(BlockPool& pool, int64_t rollback = 0);
  ~PagedKvCache() override;
  PagedKvCache(const PagedKvCache&) = delete;
  PagedKvCache& operator=(const PagedKvCache&) = delete;

  std::pair<Tensor, Tensor> append(int64_t layer, const Tensor& k, const Tensor& v) override;
  // The decode step's attention read from the blocks in place: q [1, Hq, 1, D] in f32; otherwise
  // undefined (append() and the gathering path).
  Tensor attend(int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v) override;
  // Whether attend() and decode_view() serve q [.., Hq, 1, D]: an f32 pool and query, one token,
  // whole groups of heads.
  bool decodes(const Tensor& q) const;
  // attend()'s bookkeeping without the attention: stores k, v [1, Hkv, 1, D] of `layer` and
  // returns the blocks and the key range the new position's query sees, for
  // paged_decode_attention. Valid until this cache's next call.
  PagedDecodeView decode_view(int64_t layer, const Tensor& k, const Tensor& v);
  int64_t length() const override { return layers_[0].length; }

  // Returns every block to the pool; the sequence starts again at length 0.
  void reset();
  // Forgets tokens from position n on, returning the blocks past it. False (and nothing changed)
  // when a sliding layer has already dropped keys that position n would need.
  bool truncate(int64_t n);
  int64_t blocks_held() const;
  const BlockPool& pool() const { return pool_; }
  // Keys of `layer` still held: its first held position (> 0 once a window has slid).
  int64_t first_position(int64_t layer) const { return layers_[size_t(layer)].first; }
  // The blocks of `layer`, in order.
  const std::vector<int64_t>& blocks(int64_t layer) const { return layers_[size_t(layer)].blocks; }
  // Starts an empty cache with full blocks another sequence computed for the same first tokens:
  // per layer, n blocks holding positions [0, n * block_size). Each gets a reference. Not for
  // sliding-window layouts (their blocks leave the window).
  void adopt(const std::vector<std::vector<int64_t>>& blocks_per_layer);

 private:
  struct LayerTable {
    int64_t first = 0;   // position of the first token of blocks[0]
    int64_t length = 0;  // tokens appended so far
    std::vector<int64_t> blocks;
  };
  void drop_outside_window(LayerTable& t, int64_t window);
  void write(LayerTable& t, const Tensor& k, const Tensor& v);
  // Drops what a sliding layer no longer needs, then writes k, v: what append() and attend() share.
  LayerTable& store(int64_t layer, const Tensor& k, const Tensor& v);
  void check(int64_t layer, const Tensor& k, const Tensor& v) const;
  std::pair<Tensor, Tensor> gather(const LayerTable& t);

  BlockPool& pool_;
  int64_t rollback_;
  std::vector<LayerTable> layers_;
  Tensor gather_k_, gather_v_;  // [1, kv_heads, capacity, head_dim], grown by doubling
  std::vector<const float*> block_k_, block_v_;  // attend(): the layer's blocks, reused
};

}  // namespace kiln::infer
