#pragma once
// Walks N tensors of one shape with their own strides, calling fn(inner_len, ptrs, inner_strides)
// once per innermost run. Adjacent dimensions that are contiguous in every operand are merged
// first, so contiguous tensors take a single run. Element strides, not bytes.
#include <array>
#include <cstdint>
#include <vector>

namespace kiln {

template <size_t N>
struct StridedLoop {
  std::vector<int64_t> sizes;                   // merged sizes, innermost last
  std::array<std::vector<int64_t>, N> strides;  // merged strides per operand

  StridedLoop(const std::vector<int64_t>& shape, const std::array<std::vector<int64_t>, N>& st) {
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      bool merge = !sizes.empty();
      for (size_t k = 0; k < N && merge; ++k) merge = strides[k].back() == st[k][d] * shape[d];
      if (merge) {
        sizes.back() *= shape[d];
        for (size_t k = 0; k < N; ++k) strides[k].back() = st[k][d];
      } else {
        sizes.push_back(shape[d]);
        for (size_t k = 0; k < N; ++k) strides[k].push_back(st[k][d]);
      }
    }
    if (sizes.empty()) {
      sizes.push_back(1);
      for (size_t k = 0; k < N; ++k) strides[k].push_back(1);
    }
  }

  int64_t outer_count() const {
    int64_t n = 1;
    for (size_t d = 0; d + 1 < sizes.size(); ++d) n *= sizes[d];
    return n;
  }
  int64_t inner() const { return sizes.back(); }

  // Element offsets of outer run `r` (0 <= r < outer_count()).
  std::array<int64_t, N> offsets(int64_t r) const {
    std::array<int64_t, N> off{};
    for (int64_t d = int64_t(sizes.size()) - 2; d >= 0; --d) {
      int64_t i = r % sizes[d];
      r /= sizes[d];
      for (size_t k = 0; k < N; ++k) off[k] += i * strides[k][d];
    }
    return off;
  }
  std::array<int64_t, N> inner_strides() const {
    std::array<int64_t, N> s{};
    for (size_t k = 0; k < N; ++k) s[k] = strides[k].back();
    return s;
  }
};

}  // namespace kiln
