#include <cstring>
#include <limits>

#include "kiln/io/gguf.h"
#include "kiln/io/gguf_detail.h"

namespace kiln::io {

const char* gguf_type_name(GGUFType t) {
  switch (t) {
    case GGUFType::UINT8:
      return "u8";
    case GGUFType::INT8:
      return "i8";
    case GGUFType::UINT16:
      return "u16";
    case GGUFType::INT16:
      return "i16";
    case GGUFType::UINT32:
      return "u32";
    case GGUFType::INT32:
      return "i32";
    case GGUFType::FLOAT32:
      return "f32";
    case GGUFType::BOOL:
      return "bool";
    case GGUFType::STRING:
      return "string";
    case GGUFType::ARRAY:
      return "array";
    case GGUFType::UINT64:
      return "u64";
    case GGUFType::INT64:
      return "i64";
    case GGUFType::FLOAT64:
      return "f64";
  }
  return "unknown";
}

namespace detail {

size_t gguf_scalar_size(GGUFType t) {
  switch (t) {
    case GGUFType::UINT8:
    case GGUFType::INT8:
    case GGUFType::BOOL:
      return 1;
    case GGUFType::UINT16:
    case GGUFType::INT16:
      return 2;
    case GGUFType::UINT32:
    case GGUFType::INT32:
    case GGUFType::FLOAT32:
      return 4;
    case GGUFType::UINT64:
    case GGUFType::INT64:
    case GGUFType::FLOAT64:
      return 8;
    case GGUFType::STRING:
    case GGUFType::ARRAY:
      return 0;
  }
  return 0;
}

bool gguf_is_integer(GGUFType t) {
  switch (t) {
    case GGUFType::UINT8:
    case GGUFType::INT8:
    case GGUFType::UINT16:
    case GGUFType::INT16:
    case GGUFType::UINT32:
    case GGUFType::INT32:
    case GGUFType::UINT64:
    case GGUFType::INT64:
      return true;
    default:
      return false;
  }
}

}  // namespace detail

using detail::gguf_is_integer;
using detail::gguf_scalar_size;

namespace {

std::string describe(const GGUFValue& v) {
  if (v.is_array()) return str("an array of ", gguf_type_name(v.elem_type()));
  return str("a ", gguf_type_name(v.type()));
}

template <class T>
std::vector<uint8_t> bytes_of(const T* p, size_t n) {
  std::vector<uint8_t> b(n * sizeof(T));
  if (n) std::memcpy(b.data(), p, b.size());
  return b;
}

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

void GGUFValue::require(bool ok, const char* want) const {
  KILN_REQUIRE(ok, "GGUF value is ", describe(*this), ", expected ", want);
}

size_t GGUFValue::size() const {
  if (!is_array()) return 1;
  if (elem_ == GGUFType::STRING) return strs_.size();
  return raw_.size() / gguf_scalar_size(elem_);
}

int64_t GGUFValue::int_at(size_t i) const {
  const uint8_t* p = raw_.data() + i * gguf_scalar_size(elem_);
  switch (elem_) {
    case GGUFType::UINT8:
      return load<uint8_t>(p);
    case GGUFType::INT8:
      return load<int8_t>(p);
    case GGUFType::UINT16:
      return load<uint16_t>(p);
    case GGUFType::INT16:
      return load<int16_t>(p);
    case GGUFType::UINT32:
      return load<uint32_t>(p);
    case GGUFType::INT32:
      return load<int32_t>(p);
    case GGUFType::INT64:
      return load<int64_t>(p);
    case GGUFType::UINT64: {
      uint64_t u = load<uint64_t>(p);
      KILN_REQUIRE(u <= uint64_t(std::numeric_limits<int64_t>::max()), "GGUF u64 value ", u,
                   " does not fit an i64");
      return int64_t(u);
    }
    default:
      break;
  }
  KILN_CHECK(false, "int_at on a non-integer GGUF value");
  return 0;
}

double GGUFValue::float_at(size_t i) const {
  const uint8_t* p = raw_.data() + i * gguf_scalar_size(elem_);
  if (elem_ == GGUFType::FLOAT32) return load<float>(p);
  if (elem_ == GGUFType::FLOAT64) return load<double>(p);
  if (elem_ == GGUFType::UINT64) return double(load<uint64_t>(p));
  return double(int_at(i));
}

int64_t GGUFValue::as_int() const {
  require(!is_array() && gguf_is_integer(elem_), "an integer");
  return int_at(0);
}

uint64_t GGUFValue::as_uint() const {
  require(!is_array() && gguf_is_integer(elem_), "a non-negative integer");
  if (elem_ == GGUFType::UINT64) return load<uint64_t>(raw_.data());
  int64_t v = int_at(0);
  KILN_REQUIRE(v >= 0, "GGUF value ", v, " is negative, expected a non-negative integer");
  return uint64_t(v);
}

double GGUFValue::as_float() const {
  require(!is_array() &&
              (gguf_is_integer(elem_) || elem_ == GGUFType::FLOAT32 || elem_ == GGUFType::FLOAT64),
          "a number");
  return float_at(0);
}

bool GGUFValue::as_bool() const {
  require(type_ == GGUFType::BOOL, "a bool");
  return raw_[0] != 0;
}

const std::string& GGUFValue::as_string() const {
  require(type_ == GGUFType::STRING, "a string");
  return str_;
}

const std::vector<std::string>& GGUFValue::as_strings() const {
  require(is_array() && elem_ == GGUFType::STRING, "an array of strings");
  return strs_;
}

std::vector<int64_t> GGUFValue::as_ints() const {
  require(is_array() && gguf_is_integer(elem_), "an array of integers");
  std::vector<int64_t> out(size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = int_at(i);
  return out;
}

std::vector<float> GGUFValue::as_floats() const {
  require(is_array() &&
              (gguf_is_integer(elem_) || elem_ == GGUFType::FLOAT32 || elem_ == GGUFType::FLOAT64),
          "an array of numbers");
  std::vector<float> out(size());
  if (elem_ == GGUFType::FLOAT32) {
    if (!out.empty()) std::memcpy(out.data(), raw_.data(), raw_.size());
    return out;
  }
  for (size_t i = 0; i < out.size(); ++i) out[i] = float(float_at(i));
  return out;
}

std::vector<bool> GGUFValue::as_bools() const {
  require(is_array() && elem_ == GGUFType::BOOL, "an array of bools");
  std::vector<bool> out(raw_.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = raw_[i] != 0;
  return out;
}

GGUFValue GGUFValue::from_raw(GGUFType elem, bool array, std::vector<uint8_t> bytes) {
  size_t sz = gguf_scalar_size(elem);
  KILN_REQUIRE(sz > 0, "GGUFValue::from_raw: ", gguf_type_name(elem), " is not a numeric type");
  KILN_REQUIRE(array ? bytes.size() % sz == 0 : bytes.size() == sz,
               "GGUFValue::from_raw: ", bytes.size(), " bytes do not hold ",
               array ? "whole " : "one ", gguf_type_name(elem));
  GGUFValue v;
  v.type_ = array ? GGUFType::ARRAY : elem;
  v.elem_ = elem;
  v.raw_ = std::move(bytes);
  return v;
}

#define KILN_GGUF_SCALAR(fn, T, tag)                                    \
  GGUFValue GGUFValue::fn(T v) {                                        \
    return from_raw(GGUFType::tag, false, bytes_of(&v, 1));             \
  }                                                                     \
  GGUFValue GGUFValue::fn##s(const std::vector<T>& v) {                 \
    return from_raw(GGUFType::tag, true, bytes_of(v.data(), v.size())); \
  }
KILN_GGUF_SCALAR(u8, uint8_t, UINT8)
KILN_GGUF_SCALAR(i8, int8_t, INT8)
KILN_GGUF_SCALAR(u16, uint16_t, UINT16)
KILN_GGUF_SCALAR(i16, int16_t, INT16)
KILN_GGUF_SCALAR(u32, uint32_t, UINT32)
KILN_GGUF_SCALAR(i32, int32_t, INT32)
KILN_GGUF_SCALAR(u64, uint64_t, UINT64)
KILN_GGUF_SCALAR(i64, int64_t, INT64)
KILN_GGUF_SCALAR(f32, float, FLOAT32)
KILN_GGUF_SCALAR(f64, double, FLOAT64)
#undef KILN_GGUF_SCALAR

GGUFValue GGUFValue::boolean(bool b) {
  return from_raw(GGUFType::BOOL, false, {uint8_t(b)});
}

GGUFValue GGUFValue::bools(const std::vector<bool>& v) {
  std::vector<uint8_t> b(v.size());
  for (size_t i = 0; i < v.size(); ++i) b[i] = v[i] ? 1 : 0;
  return from_raw(GGUFType::BOOL, true, std::move(b));
}

GGUFValue GGUFValue::str(std::string s) {
  GGUFValue v;
  v.type_ = v.elem_ = GGUFType::STRING;
  v.raw_.clear();
  v.str_ = std::move(s);
  return v;
}

GGUFValue GGUFValue::strings(std::vector<std::string> s) {
  GGUFValue v;
  v.type_ = GGUFType::ARRAY;
  v.elem_ = GGUFType::STRING;
  v.raw_.clear();
  v.strs_ = std::move(s);
  return v;
}

}  // namespace kiln::io
