#pragma once
// Element types. Block-quantized types (Q8_0, Q4_0, Q4_K) store a block of elements in a fixed
// number of bytes with the GGUF layouts, so a tensor of them is a byte buffer sized by blocks.
#include <cstddef>
#include <cstdint>
#include <string>

#include "kiln/core/half.h"

namespace kiln {

enum class DType : uint8_t { F32, F64, BF16, F16, I32, I64, U8, I8, Q8_0, Q4_0, Q4_K };

struct DTypeInfo {
  const char* name;
  size_t block_bytes;   // bytes per block (per element for plain types)
  int64_t block_elems;  // elements per block (1 for plain types)
  bool is_float;        // a plain floating type (f32, f64, bf16, f16)
};

const DTypeInfo& dtype_info(DType t);
inline const char* dtype_name(DType t) {
  return dtype_info(t).name;
}
inline bool is_float(DType t) {
  return dtype_info(t).is_float;
}
inline bool is_quantized(DType t) {
  return dtype_info(t).block_elems > 1;
}
// Bytes for n elements; n must be a multiple of the block size for quantized types.
size_t dtype_nbytes(DType t, int64_t n);
// Parses "f32", "bf16", "q4_0", ... Throws kiln::Error on an unknown name.
DType parse_dtype(const std::string& name);

template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::F32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::F64;
};
template <>
struct dtype_of<bf16> {
  static constexpr DType value = DType::BF16;
};
template <>
struct dtype_of<f16> {
  static constexpr DType value = DType::F16;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = DType::I32;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::I64;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = DType::U8;
};
template <>
struct dtype_of<int8_t> {
  static constexpr DType value = DType::I8;
};

}  // namespace kiln
