#pragma once
// Decode attention over a paged KV cache's blocks in place: one query token per head against
// keys and values that lie in fixed-size blocks (PagedKvCache), without gathering them into one
// buffer first.
#include <cstdint>

namespace kiln::infer {

// q, out: [heads, head_dim]. Block i holds tokens [i * block_size, (i + 1) * block_size) of the
// sequence (as offsets from the cache's first held token), k and v each [kv_heads, block_size,
// head_dim]. The query attends to tokens [from, to) with softmax(q . k / sqrt(head_dim)); head h
// reads kv head h / (heads / kv_heads).
void paged_decode_attention(const float* q, float* out, int64_t heads, int64_t kv_heads,
                            int64_t head_dim, int64_t block_size, const float* const* block_k,
                            const float* const* block_v, int64_t from, int64_t to);

// One sequence's blocks of one layer and the keys its query sees, as paged_decode_attention takes
// them.
struct PagedDecodeView {
  const float* const* block_k;
  const float* const* block_v;
  int64_t from, to;
};

// The decode step of a batch of independent sequences in one pass: q, out [rows, heads,
// head_dim], row r attending over views[r]. Every (row, head) is computed by the same serial code
// as in paged_decode_attention, so a row's output is bit-identical to its own call alone, whatever
// the batch and the thread count (the server's batch invariance rests on this).
void paged_decode_attention_rows(const float* q, float* out, int64_t rows, int64_t heads,
                                 int64_t kv_heads, int64_t head_dim, int64_t block_size,
                                 const PagedDecodeView* views);

}  // namespace kiln::infer
