#include "kiln/core/dtype.h"

#include "kiln/core/error.h"

namespace kiln {

namespace {
const DTypeInfo kInfo[] = {
    {"f32", 4, 1, true},       {"f64", 8, 1, true},  {"bf16", 2, 1, true}, {"f16", 2, 1, true},
    {"i32", 4, 1, false},      {"i64", 8, 1, false}, {"u8", 1, 1, false},  {"i8", 1, 1, false},
    {"q8_0", 34, 32, false},    // f16 scale + 32 int8
    {"q4_0", 18, 32, false},    // f16 scale + 16 bytes of nibbles
    {"q4_k", 144, 256, false},  // super-block: 2 f16 + 12 scale bytes + 128 nibble bytes
};
}  // namespace

const DTypeInfo& dtype_info(DType t) {
  return kInfo[static_cast<int>(t)];
}

size_t dtype_nbytes(DType t, int64_t n) {
  const DTypeInfo& i = dtype_info(t);
  KILN_REQUIRE(n % i.block_elems == 0, "a ", i.name, " tensor needs a multiple of ", i.block_elems,
               " elements, got ", n);
  return size_t(n / i.block_elems) * i.block_bytes;
}

DType parse_dtype(const std::string& name) {
  for (int k = 0; k < int(sizeof(kInfo) / sizeof(kInfo[0])); ++k)
    if (name == kInfo[k].name) return static_cast<DType>(k);
  throw Error(str("unknown dtype '", name,
                  "' (expected f32, f64, bf16, f16, i32, i64, u8, i8, q8_0, q4_0 or q4_k)"));
}

}  // namespace kiln
