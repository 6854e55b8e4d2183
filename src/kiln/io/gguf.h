#pragma once
// GGUF, the file format of llama.cpp (versions 2 and 3, little-endian): a header, typed key-value
// metadata, tensor descriptors, then the tensor data, each tensor aligned to general.alignment.
//
// GGUFReader memory-maps the file and validates every length, count and offset against the file's
// size before using it, so malformed input raises kiln::Error and never reads out of bounds.
// GGUFWriter writes files llama.cpp accepts: tensors in the order added, each padded to the
// alignment, offsets consecutive (llama.cpp requires that), general.alignment stored as u32.
//
// Shapes are in kiln order (outermost first); GGUF stores ne innermost first, so they are reversed
// on the way in and out. A block-quantized tensor (Q8_0, Q4_0, Q4_K) counts its shape in elements.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kiln/core/tensor.h"

namespace kiln::io {

enum class GGUFType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
const char* gguf_type_name(GGUFType t);

// One metadata value: a scalar, a string, or an array of scalars or strings. Numeric values keep
// their little-endian bytes, so a 150K-entry array loads with one copy; string arrays are a
// vector of strings.
class GGUFValue {
 public:
  GGUFValue() = default;

  GGUFType type() const { return type_; }  // ARRAY for arrays
  bool is_array() const { return type_ == GGUFType::ARRAY; }
  GGUFType elem_type() const { return elem_; }  // the scalar type, or the array's element type
  size_t size() const;                          // array length; 1 for a scalar

  // Scalars. Each throws kiln::Error naming the type found when it does not fit.
  int64_t as_int() const;    // any integer type (a u64 above INT64_MAX throws)
  uint64_t as_uint() const;  // any integer type that is non-negative
  double as_float() const;   // f32, f64, or any integer type
  bool as_bool() const;
  const std::string& as_string() const;
  // Arrays.
  const std::vector<std::string>& as_strings() const;
  std::vector<int64_t> as_ints() const;  // array of any integer type
  std::vector<float> as_floats() const;  // array of f32, f64 or any integer type
  std::vector<bool> as_bools() const;
  // Raw little-endian bytes of a numeric scalar or array.
  const std::vector<uint8_t>& raw() const { return raw_; }

  static GGUFValue u8(uint8_t v);
  static GGUFValue i8(int8_t v);
  static GGUFValue u16(uint16_t v);
  static GGUFValue i16(int16_t v);
  static GGUFValue u32(uint32_t v);
  static GGUFValue i32(int32_t v);
  static GGUFValue u64(uint64_t v);
  static GGUFValue i64(int64_t v);
  static GGUFValue f32(float v);
  static GGUFValue f64(double v);
  static GGUFValue boolean(bool v);
  static GGUFValue str(std::string v);
  static GGUFValue u8s(const std::vector<uint8_t>& v);
  static GGUFValue i8s(const std::vector<int8_t>& v);
  static GGUFValue u16s(const std::vector<uint16_t>& v);
  static GGUFValue i16s(const std::vector<int16_t>& v);
  static GGUFValue u32s(const std::vector<uint32_t>& v);
  static GGUFValue i32s(const std::vector<int32_t>& v);
  static GGUFValue u64s(const std::vector<uint64_t>& v);
  static GGUFValue i64s(const std::vector<int64_t>& v);
  static GGUFValue f32s(const std::vector<float>& v);
  static GGUFValue f64s(const std::vector<double>& v);
  static GGUFValue bools(const std::vector<bool>& v);
  static GGUFValue strings(std::vector<std::string> v);
  // A numeric scalar (array=false) or array from raw little-endian bytes; the reader uses this.
  static GGUFValue from_raw(GGUFType elem, bool array, std::vector<uint8_t> bytes);

  bool operator==(const GGUFValue& o) const = default;

 private:
  GGUFType type_ = GGUFType::UINT8;
  GGUFType elem_ = GGUFType::UINT8;
  std::vector<uint8_t> raw_ = {0};  // numeric and bool payload (a default value is u8 0)
  std::string str_;                 // STRING scalar
  std::vector<std::string> strs_;   // STRING array
  int64_t int_at(size_t i) const;   // element i of a numeric payload, as an integer
  double float_at(size_t i) const;
  void require(bool ok, const char* want) const;
};

struct GGUFTensorInfo {
  std::string name;
  Shape shape;  // kiln order: GGUF's ne reversed
  DType dtype;
  uint64_t offset;  // bytes from the start of the data section
};

// ggml type ids for the dtypes kiln stores in GGUF, both ways. gguf_dtype throws on an id kiln does
// not hold (naming it: "q5_k (13)"); ggml_type_id throws for a dtype GGUF cannot hold (u8).
DType gguf_dtype(uint32_t ggml_type);
uint32_t ggml_type_id(DType dt);

class GGUFReader {
 public:
  // Maps and parses the file; throws kiln::Error naming the file, the field or tensor, and what was
  // found versus expected.
  explicit GGUFReader(const std::string& path);
  // Parses bytes in memory (used by the fuzzer); tensors keep `bytes` alive.
  static GGUFReader from_memory(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                const std::string& name = "<memory>");

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  const std::vector<std::pair<std::string, GGUFValue>>& metadata() const { return metadata_; }
  const GGUFValue* find(const std::string& key) const;
  const GGUFValue& get(const std::string& key) const;  // throws naming key and file
  const std::vector<GGUFTensorInfo>& tensors() const { return tensors_; }
  const GGUFTensorInfo* find_tensor(const std::string& name) const;
  // Zero-copy, read-only view into the mapping (kept alive by the tensor); copied only when the
  // file's alignment leaves the data misaligned for its type. Throws naming the tensor when absent.
  Tensor tensor(const std::string& name) const;
  size_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }  // where the data section starts in the file

 private:
  GGUFReader() = default;
  void parse(const uint8_t* data, size_t size);

  std::string path_;
  std::shared_ptr<const void> owner_;
  const uint8_t* base_ = nullptr;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GGUFValue>> metadata_;
  std::unordered_map<std::string, size_t> meta_index_;
  std::vector<GGUFTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

class GGUFWriter {
 public:
  // Sets a key (replacing an earlier value in place, so the order of first setting is kept).
  // general.alignment must be a u32 power of two.
  void set(const std::string& key, GGUFValue v);
  // Adds a tensor, written in the order added. The name must be new and under 64 bytes, the rank
  // at most 4 with no zero dimension, and the dtype one GGUF holds (llama.cpp's limits).
  void add_tensor(const std::string& name, const Tensor& t);
  // Writes version 3 through a temporary file and a rename.
  void write(const std::string& path) const;

 private:
  size_t alignment() const;
  std::vector<std::pair<std::string, GGUFValue>> metadata_;
  std::vector<std::pair<std::string, Tensor>> tensors_;
};

}  // namespace kiln::io
