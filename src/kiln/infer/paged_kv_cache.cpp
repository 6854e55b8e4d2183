#include "kiln/infer/paged_kv_cache.h"

#include <algorithm>

#include "kiln/autograd/grad_mode.h"
#include "kiln/infer/paged_attention.h"

namespace kiln::infer {

namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
}  // namespace

KvLayout kv_layout(const models::ModelConfig& c, DType dt) {
  KvLayout l;
  l.n_layers = c.num_hidden_layers;
  l.kv_heads = c.num_key_value_heads;
  l.head_dim = c.head_dim;
  l.dtype = dt;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    l.windows.push_back(
        c.is_sliding_layer(i) && c.positions != models::Positions::Alibi ? c.sliding_window : 0);
  return l;
}

BlockPool::BlockPool(const KvLayout& layout, int64_t block_size, int64_t num_blocks)
    : layout_(layout), block_size_(block_size), num_blocks_(num_blocks) {
  KILN_REQUIRE(block_size > 0, "kv cache: block size ", block_size, ", expected > 0");
  KILN_REQUIRE(num_blocks > 0, "kv cache: ", num_blocks, " blocks, expected > 0");
  KILN_REQUIRE(layout.n_layers > 0 && layout.kv_heads > 0 && layout.head_dim > 0 &&
                   int64_t(layout.windows.size()) == layout.n_layers,
               "kv cache: bad layout (", layout.n_layers, " layers, ", layout.kv_heads,
               " kv heads, head_dim ", layout.head_dim, ")");
  storage_ =
      Tensor::empty({num_blocks, 2, layout.kv_heads, block_size, layout.head_dim}, layout.dtype);
  refs_.assign(size_t(num_blocks), 0);
  for (int64_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);
}

int64_t BlockPool::blocks_needed(const KvLayout& layout, int64_t block_size, int64_t tokens,
                                 int64_t chunk, int64_t seqs) {
  int64_t per_seq = 0;
  for (int64_t w : layout.windows) {
    int64_t full = ceil_div(tokens, block_size);
    // A chunk at position L reads keys from L - w + 1: w - 1 + chunk tokens, which may straddle
    // one more block boundary than they fill.
    per_seq += w > 0 ? std::min(full, ceil_div(w - 1 + chunk, block_size) + 1) : full;
  }
  return per_seq * seqs;
}

void BlockPool::touch() {
  storage_.zero_();
}

int64_t BlockPool::allocate() {
  KILN_REQUIRE(!free_.empty(), "kv cache: all ", num_blocks_, " blocks of ", block_size_,
               " tokens are in use (", bytes_total(),
               " bytes); raise the context (--ctx) or the number of blocks the cache plans for");
  int64_t b = free_.back();
  free_.pop_back();
  refs_[size_t(b)] = 1;
  peak_used_ = std::max(peak_used_, used_blocks());
  return b;
}

void BlockPool::retain(int64_t block) {
  KILN_CHECK(block >= 0 && block < num_blocks_ && refs_[size_t(block)] > 0, "kv cache: block ",
             block, " retained while free");
  ++refs_[size_t(block)];
}

void BlockPool::release(int64_t block) {
  KILN_CHECK(block >= 0 && block < num_blocks_ && refs_[size_t(block)] > 0, "kv cache: block ",
             block, " released twice or never allocated");
  if (--refs_[size_t(block)] == 0) free_.push_back(block);
}

int64_t BlockPool::bytes_per_token_layer() const {
  return 2 * int64_t(dtype_nbytes(layout_.dtype, layout_.kv_heads * layout_.head_dim));
}

PagedKvCache::PagedKvCache(BlockPool& pool, int64_t rollback)
    : pool_(pool), rollback_(rollback), layers_(size_t(pool.layout().n_layers)) {
  KILN_CHECK(rollback >= 0, "paged kv cache: rollback ", rollback);
}

PagedKvCache::~PagedKvCache() {
  reset();
}

void PagedKvCache::reset() {
  for (LayerTable& t : layers_) {
    for (int64_t b : t.blocks) pool_.release(b);
    t = LayerTable{};
  }
}

bool PagedKvCache::truncate(int64_t n) {
  KILN_CHECK(n >= 0, "truncate to ", n);
  const KvLayout& l = pool_.layout();
  for (size_t i = 0; i < layers_.size(); ++i) {
    int64_t w = l.windows[i];
    if (n < layers_[i].length && layers_[i].first > (w > 0 ? std::max<int64_t>(0, n - w + 1) : 0))
      return false;
  }
  int64_t bs = pool_.block_size();
  for (LayerTable& t : layers_) {
    if (n >= t.length) continue;
    size_t keep = size_t((n - t.first + bs - 1) / bs);
    for (size_t b = keep; b < t.blocks.size(); ++b) pool_.release(t.blocks[b]);
    t.blocks.resize(keep);
    t.length = n;
  }
  return true;
}

void PagedKvCache::adopt(const std::vector<std::vector<int64_t>>& blocks_per_layer) {
  KILN_CHECK(length() == 0 && blocks_per_layer.size() == layers_.size(),
             "adopt: the cache must be empty and given every layer's blocks");
  for (size_t i = 0; i < layers_.size(); ++i) {
    KILN_CHECK(pool_.layout().windows[i] == 0, "adopt: sliding-window layers cannot share blocks");
    KILN_CHECK(blocks_per_layer[i].size() == blocks_per_layer[0].size(), "adopt: uneven layers");
    for (int64_t b : blocks_per_layer[i]) pool_.retain(b);
    layers_[i].blocks = blocks_per_layer[i];
    layers_[i].length = int64_t(blocks_per_layer[i].size()) * pool_.block_size();
  }
}

int64_t PagedKvCache::blocks_held() const {
  int64_t n = 0;
  for (const LayerTable& t : layers_) n += int64_t(t.blocks.size());
  return n;
}

void PagedKvCache::drop_outside_window(LayerTable& t, int64_t window) {
  // The first query of this step sits at t.length and sees keys from t.length - window + 1.
  int64_t keep_from = t.length - window + 1 - rollback_, bs = pool_.block_size();
  size_t n = 0;
  while (n < t.blocks.size() && t.first + bs * int64_t(n + 1) <= keep_from)
    pool_.release(t.blocks[n++]);
  t.blocks.erase(t.blocks.begin(), t.blocks.begin() + int64_t(n));
  t.first += bs * int64_t(n);
}

void PagedKvCache::write(LayerTable& t, const Tensor& k, const Tensor& v) {
  int64_t bs = pool_.block_size(), n = k.size(2);
  Tensor k0 = k.select(0, 0), v0 = v.select(0, 0);  // [Hkv, T, D]
  for (int64_t done = 0; done < n;) {
    int64_t pos = t.length + done - t.first;  // offset from the first held token
    int64_t block = pos / bs, in_block = pos % bs;
    if (block == int64_t(t.blocks.size())) t.blocks.push_back(pool_.allocate());
    int64_t m = std::min(bs - in_block, n - done);
    int64_t b = t.blocks[size_t(block)];
    pool_.k(b).narrow(1, in_block, m).copy_(k0.narrow(1, done, m));
    pool_.v(b).narrow(1, in_block, m).copy_(v0.narrow(1, done, m));
    done += m;
  }
  t.length += n;
}

std::pair<Tensor, Tensor> PagedKvCache::gather(const LayerTable& t) {
  const KvLayout& l = pool_.layout();
  int64_t bs = pool_.block_size(), s = t.length - t.first;
  if (!gather_k_.defined() || gather_k_.size(2) < s) {
    int64_t cap = std::max(s, gather_k_.defined() ? 2 * gather_k_.size(2) : bs);
    cap = ceil_div(cap, bs) * bs;
    gather_k_ = Tensor::empty({1, l.kv_heads, cap, l.head_dim}, l.dtype);
    gather_v_ = Tensor::empty({1, l.kv_heads, cap, l.head_dim}, l.dtype);
  }
  Tensor gk = gather_k_.select(0, 0), gv = gather_v_.select(0, 0);
  for (size_t i = 0; i < t.blocks.size(); ++i) {
    int64_t start = int64_t(i) * bs, m = std::min(bs, s - start);
    gk.narrow(1, start, m).copy_(pool_.k(t.blocks[i]).narrow(1, 0, m));
    gv.narrow(1, start, m).copy_(pool_.v(t.blocks[i]).narrow(1, 0, m));
  }
  return {gather_k_.narrow(2, 0, s), gather_v_.narrow(2, 0, s)};
}

void PagedKvCache::check(int64_t layer, const Tensor& k, const Tensor& v) const {
  const KvLayout& l = pool_.layout();
  KILN_REQUIRE(layer >= 0 && layer < l.n_layers, "kv cache: layer ", layer, " out of range [0, ",
               l.n_layers, ")");
  KILN_REQUIRE(!grad_enabled(),
               "paged kv cache: grad mode is on; the cache is for inference (use NoGradGuard)");
  KILN_REQUIRE(k.dim() == 4 && k.size(0) == 1 && k.size(1) == l.kv_heads &&
                   k.size(3) == l.head_dim && v.sizes() == k.sizes(),
               "paged kv cache: k ", shape_str(k.sizes()), ", v ", shape_str(v.sizes()),
               ", expected [1, ", l.kv_heads, ", T, ", l.head_dim, "] (one sequence per cache)");
}

PagedKvCache::LayerTable& PagedKvCache::store(int64_t layer, const Tensor& k, const Tensor& v) {
  LayerTable& t = layers_[size_t(layer)];
  int64_t window = pool_.layout().windows[size_t(layer)];
  if (window > 0) drop_outside_window(t, window);
  write(t, k, v);
  return t;
}

std::pair<Tensor, Tensor> PagedKvCache::append(int64_t layer, const Tensor& k, const Tensor& v) {
  check(layer, k, v);
  return gather(store(layer, k, v));
}

bool PagedKvCache::decodes(const Tensor& q) const {
  const KvLayout& l = pool_.layout();
  return q.dim() == 4 && q.size(2) == 1 && q.size(3) == l.head_dim && q.dtype() == DType::F32 &&
         l.dtype == DType::F32 && q.size(1) % l.kv_heads == 0;
}

PagedDecodeView PagedKvCache::decode_view(int64_t layer, const Tensor& k, const Tensor& v) {
  check(layer, k, v);
  KILN_REQUIRE(k.size(2) == 1, "paged kv cache: a one-token query with ", k.size(2), " keys");
  KILN_REQUIRE(pool_.layout().dtype == DType::F32, "paged kv cache: decode_view needs an f32 pool");
  LayerTable& t = store(layer, k, v);
  int64_t window = pool_.layout().windows[size_t(layer)];
  int64_t pos = t.length - 1;  // the query's own position: it sees keys [from, pos]
  int64_t from = window > 0 ? std::max(t.first, pos - window + 1) : t.first;
  block_k_.clear();
  block_v_.clear();
  for (int64_t b : t.blocks) {
    block_k_.push_back(pool_.k_data(b));
    block_v_.push_back(pool_.v_data(b));
  }
  return {block_k_.data(), block_v_.data(), from - t.first, pos - t.first + 1};
}

Tensor PagedKvCache::attend(int64_t layer, const Tensor& q, const Tensor& k, const Tensor& v) {
  if (!decodes(q) || q.size(0) != 1) return Tensor();
  PagedDecodeView view = decode_view(layer, k, v);
  const KvLayout& l = pool_.layout();
  Tensor qc = q.contiguous(), out = Tensor::empty(q.sizes());
  paged_decode_attention(qc.data<float>(), out.data<float>(), q.size(1), l.kv_heads, l.head_dim,
                         pool_.block_size(), view.block_k, view.block_v, view.from, view.to);
  return out;
}

}  // namespace kiln::infer
