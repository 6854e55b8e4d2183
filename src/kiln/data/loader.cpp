#include "kiln/data/loader.h"

#include <numeric>

#include "kiln/core/rng.h"

namespace kiln::data {

TokenLoader::TokenLoader(const TokenShard& shard, int64_t batch, int64_t seq, uint64_t seed,
                         bool shuffle, bool doc_masking)
    : shard_(shard),
      batch_(batch),
      seq_(seq),
      windows_(seq > 0 ? (shard.size() - 1) / seq : 0),
      seed_(seed),
      shuffle_(shuffle),
      doc_masking_(doc_masking) {
  KILN_REQUIRE(batch >= 1 && seq >= 1, "loader: batch and seq must be >= 1, got ", batch, " and ",
               seq);
  KILN_REQUIRE(windows_ >= 1, "loader: the split holds ", shard.size(),
               " tokens, fewer than one window of ", seq + 1);
}

int64_t TokenLoader::window_at(int64_t epoch, int64_t i) const {
  if (!shuffle_) return i;
  if (order_epoch_ != epoch) {
    // Fisher-Yates with a generator keyed by (seed, epoch): any epoch's order is reproducible.
    Generator g(seed_ * 1000003ull + uint64_t(epoch));
    order_.resize(size_t(windows_));
    std::iota(order_.begin(), order_.end(), 0);
    for (int64_t k = windows_ - 1; k > 0; --k) {
      int64_t j = int64_t(g.next_uniform() * double(k + 1));
      std::swap(order_[size_t(k)], order_[size_t(std::min(j, k))]);
    }
    order_epoch_ = epoch;
  }
  return order_[size_t(i)];
}

void TokenLoader::seek(LoaderPosition p) {
  KILN_REQUIRE(p.epoch >= 0 && p.window >= 0 && p.window < windows_, "loader: position (", p.epoch,
               ", ", p.window, ") outside an epoch of ", windows_, " windows");
  pos_ = p;
}

Batch TokenLoader::next() {
  Batch b;
  b.inputs = Tensor::empty({batch_, seq_}, DType::I64);
  b.targets = Tensor::empty({batch_, seq_}, DType::I64);
  b.positions = Tensor::empty({batch_, seq_}, DType::I64);
  int64_t* in = b.inputs.data<int64_t>();
  int64_t* tg = b.targets.data<int64_t>();
  int64_t* ps = b.positions.data<int64_t>();
  uint8_t* mask = nullptr;
  if (doc_masking_) {
    b.doc_mask = Tensor::empty({batch_, 1, seq_, seq_}, DType::U8);
    mask = b.doc_mask.data<uint8_t>();
  }
  int32_t eos = shard_.eos_id();
  for (int64_t r = 0; r < batch_; ++r) {
    int64_t start = window_at(pos_.epoch, pos_.window) * seq_;
    std::vector<int64_t> doc(static_cast<size_t>(seq_));
    int64_t d = 0, p = 0;
    for (int64_t t = 0; t < seq_; ++t) {
      int32_t tok = shard_.at(start + t);
      in[r * seq_ + t] = tok;
      tg[r * seq_ + t] = shard_.at(start + t + 1);
      doc[size_t(t)] = d;
      ps[r * seq_ + t] = doc_masking_ ? p++ : t;
      if (doc_masking_ && tok == eos) ++d, p = 0;  // the next token starts a new document
    }
    if (mask)
      for (int64_t i = 0; i < seq_; ++i)
        for (int64_t j = 0; j < seq_; ++j)
          mask[(r * seq_ + i) * seq_ + j] = doc[size_t(i)] != doc[size_t(j)];
    if (++pos_.window == windows_) pos_ = {pos_.epoch + 1, 0};
  }
  return b;
}

}  // namespace kiln::data
