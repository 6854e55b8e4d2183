#include "kiln/io/gguf.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "kiln/io/gguf_detail.h"
#include "kiln/io/mmap.h"

namespace kiln::io {

using detail::gguf_scalar_size;

namespace {

// ggml's type ids and names, for the ids kiln can hold and for naming the ones it cannot.
struct GgmlType {
  uint32_t id;
  const char* name;
  bool kiln;
  DType dtype;
};
constexpr GgmlType kGgmlTypes[] = {
    {0, "f32", true, DType::F32},       {1, "f16", true, DType::F16},
    {2, "q4_0", true, DType::Q4_0},     {3, "q4_1", false, DType::F32},
    {6, "q5_0", false, DType::F32},     {7, "q5_1", false, DType::F32},
    {8, "q8_0", true, DType::Q8_0},     {9, "q8_1", false, DType::F32},
    {10, "q2_k", false, DType::F32},    {11, "q3_k", false, DType::F32},
    {12, "q4_k", true, DType::Q4_K},    {13, "q5_k", false, DType::F32},
    {14, "q6_k", false, DType::F32},    {15, "q8_k", false, DType::F32},
    {16, "iq2_xxs", false, DType::F32}, {17, "iq2_xs", false, DType::F32},
    {18, "iq3_xxs", false, DType::F32}, {19, "iq1_s", false, DType::F32},
    {20, "iq4_nl", false, DType::F32},  {21, "iq3_s", false, DType::F32},
    {22, "iq2_s", false, DType::F32},   {23, "iq4_xs", false, DType::F32},
    {24, "i8", true, DType::I8},        {25, "i16", false, DType::F32},
    {26, "i32", true, DType::I32},      {27, "i64", true, DType::I64},
    {28, "f64", true, DType::F64},      {29, "iq1_m", false, DType::F32},
    {30, "bf16", true, DType::BF16},    {34, "tq1_0", false, DType::F32},
    {35, "tq2_0", false, DType::F32},   {39, "mxfp4", false, DType::F32},
};

constexpr uint64_t kMaxNumel = uint64_t(1) << 60;
constexpr size_t kGgmlMaxDims = 4;

// A bounds-checked reader over the file's bytes. Every read checks the bytes left first, so a
// malformed length or count becomes an error naming the field rather than an out-of-bounds read.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}

  size_t pos() const { return pos_; }
  size_t left() const { return size_ - pos_; }
  void set_context(std::string c) { context_ = std::move(c); }
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(str("gguf '", path_, "': ", context_.empty() ? "" : context_ + ": ", msg));
  }
  void need(uint64_t n, const char* field) const {
    if (n > left())
      fail(str(field, " needs ", n, " bytes at offset ", pos_, " but only ", left(),
               " remain (truncated file?)"));
  }
  template <class T>
  T get(const char* field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string string(const char* field) {
    uint64_t n = get<uint64_t>(field);
    need(n, field);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
    pos_ += size_t(n);
    return s;
  }
  std::vector<uint8_t> bytes(size_t n, const char* field) {
    need(n, field);
    std::vector<uint8_t> b(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    return b;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& path_;
  std::string context_;
};

GGUFType value_type(Cursor& c, const char* field) {
  uint32_t t = c.get<uint32_t>(field);
  if (t > uint32_t(GGUFType::FLOAT64))
    c.fail(str(field, " is ", t, ", expected a GGUF value type 0..12"));
  return GGUFType(t);
}

GGUFValue read_value(Cursor& c) {
  GGUFType t = value_type(c, "value type");
  if (t == GGUFType::STRING) return GGUFValue::str(c.string("string value"));
  if (t != GGUFType::ARRAY)
    return GGUFValue::from_raw(t, false, c.bytes(gguf_scalar_size(t), "value"));
  GGUFType elem = value_type(c, "array element type");
  if (elem == GGUFType::ARRAY) c.fail("nested arrays are not supported (llama.cpp rejects them)");
  uint64_t n = c.get<uint64_t>("array length");
  // Each element takes at least `least` bytes, so a count the rest of the file cannot hold is
  // refused before anything is allocated for it.
  size_t least = elem == GGUFType::STRING ? 8 : gguf_scalar_size(elem);
  if (n > c.left() / least)
    c.fail(str("array length ", n, " of ", gguf_type_name(elem), " needs at least ", least,
               " bytes each but only ", c.left(), " bytes remain"));
  if (elem != GGUFType::STRING) return GGUFValue::from_raw(elem, true, c.bytes(n * least, "array"));
  std::vector<std::string> s;
  s.reserve(size_t(n));
  for (uint64_t i = 0; i < n; ++i) s.push_back(c.string("array string"));
  return GGUFValue::strings(std::move(s));
}

uint64_t round_up(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}

// The smallest address alignment kernels need for a dtype: the element size, or the f16 scale
// that starts each block of a quantized type.
size_t natural_alignment(DType dt) {
  return is_quantized(dt) ? alignof(uint16_t) : dtype_info(dt).block_bytes;
}

}  // namespace

DType gguf_dtype(uint32_t ggml_type) {
  for (const GgmlType& g : kGgmlTypes) {
    if (g.id != ggml_type) continue;
    KILN_REQUIRE(g.kiln, "ggml type ", g.name, " (", g.id,
                 ") is not supported (expected f32, f16, bf16, f64, i8, i32, i64, q8_0, q4_0 or "
                 "q4_k)");
    return g.dtype;
  }
  throw Error(str("unknown ggml type id ", ggml_type));
}

uint32_t ggml_type_id(DType dt) {
  for (const GgmlType& g : kGgmlTypes)
    if (g.kiln && g.dtype == dt) return g.id;
  throw Error(str("GGUF cannot hold dtype ", dtype_name(dt)));
}

GGUFReader::GGUFReader(const std::string& path) : path_(path) {
  auto m = MappedFile::open(path);
  owner_ = m;
  parse(m->data(), m->size());
}

GGUFReader GGUFReader::from_memory(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                   const std::string& name) {
  GGUFReader r;
  r.path_ = name;
  r.owner_ = bytes;
  r.parse(bytes->data(), bytes->size());
  return r;
}

void GGUFReader::parse(const uint8_t* data, size_t size) {
  base_ = data;
  Cursor c(data, size, path_);

  c.set_context("header");
  c.need(4, "magic");
  if (std::memcmp(data, "GGUF", 4) != 0) {
    std::string found;
    for (int i = 0; i < 4; ++i) found += std::isprint(data[i]) ? char(data[i]) : '?';
    c.fail(str("bad magic '", found, "', expected 'GGUF'"));
  }
  c.get<uint32_t>("magic");
  version_ = c.get<uint32_t>("version");
  if (version_ != 2 && version_ != 3) {
    uint32_t swapped = __builtin_bswap32(version_);
    if (swapped == 2 || swapped == 3) c.fail("big-endian GGUF files are not supported");
    c.fail(str("version ", version_, " is not supported, expected 2 or 3"));
  }
  uint64_t n_tensors = c.get<uint64_t>("tensor count");
  uint64_t n_kv = c.get<uint64_t>("metadata count");
  // A key-value pair takes at least 13 bytes (key length, type, one byte of value) and a tensor
  // descriptor at least 24 (name length, rank, type, offset): counts beyond that are absurd.
  if (n_kv > c.left() / 13)
    c.fail(str("metadata count ", n_kv, " is absurd: the ", c.left(), " bytes left hold at most ",
               c.left() / 13));
  if (n_tensors > c.left() / 24)
    c.fail(str("tensor count ", n_tensors, " is absurd: the ", c.left(),
               " bytes left hold at most ", c.left() / 24));

  metadata_.reserve(size_t(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    c.set_context(str("metadata entry ", i));
    std::string key = c.string("key");
    if (key.empty()) c.fail("empty key");
    c.set_context(str("key '", key, "'"));
    if (meta_index_.count(key)) c.fail("duplicate key");
    GGUFValue v = read_value(c);
    meta_index_.emplace(key, metadata_.size());
    metadata_.emplace_back(std::move(key), std::move(v));
  }

  if (const GGUFValue* a = find("general.alignment")) {
    c.set_context("key 'general.alignment'");
    if (a->type() != GGUFType::UINT32)
      c.fail(str("is a ", gguf_type_name(a->type()), ", expected u32"));
    uint64_t al = a->as_uint();
    if (al == 0 || (al & (al - 1)) != 0) c.fail(str("alignment ", al, " is not a power of two"));
    alignment_ = size_t(al);
  }

  tensors_.reserve(size_t(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    c.set_context(str("tensor ", i));
    GGUFTensorInfo t;
    t.name = c.string("name");
    c.set_context(str("tensor '", t.name, "'"));
    if (tensor_index_.count(t.name)) c.fail("duplicate tensor name");
    uint32_t n_dims = c.get<uint32_t>("rank");
    if (n_dims > kGgmlMaxDims) c.fail(str("rank ", n_dims, ", expected at most ", kGgmlMaxDims));
    // The product of the non-zero dimensions is bounded too: strides are computed from it even
    // when another dimension makes the tensor empty.
    uint64_t span = 1, inner = 1;
    t.shape.assign(n_dims, 0);
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = c.get<uint64_t>("dimension");
      uint64_t extent = std::max<uint64_t>(ne, 1);
      if (extent > kMaxNumel / span)
        c.fail(str("dimension ", d, " of ", ne, " makes the tensor larger than 2^60 elements"));
      span *= extent;
      if (d == 0) inner = ne;
      t.shape[n_dims - 1 - d] = int64_t(ne);
    }
    uint32_t type = c.get<uint32_t>("type");
    try {
      t.dtype = gguf_dtype(type);
    } catch (const Error& e) {
      c.fail(e.what());
    }
    const DTypeInfo& info = dtype_info(t.dtype);
    if (inner % uint64_t(info.block_elems) != 0)
      c.fail(str("rows of ", inner, " elements are not a multiple of the ", info.name,
                 " block size ", info.block_elems));
    t.offset = c.get<uint64_t>("data offset");
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment; each tensor must lie inside
  // the file and start on an aligned offset.
  data_offset_ = size_t(round_up(c.pos(), alignment_));
  for (const GGUFTensorInfo& t : tensors_) {
    c.set_context(str("tensor '", t.name, "'"));
    if (t.offset % alignment_ != 0)
      c.fail(str("data offset ", t.offset, " is not a multiple of the alignment ", alignment_));
    uint64_t nbytes = dtype_nbytes(t.dtype, numel_of(t.shape));
    uint64_t room = data_offset_ <= size ? size - data_offset_ : 0;
    if (data_offset_ > size || t.offset > room || nbytes > room - t.offset)
      c.fail(str("data [", t.offset, ", ", t.offset + nbytes, ") of ", nbytes,
                 " bytes runs past the end of the file: the data section starting at byte ",
                 data_offset_, " holds ", room, " bytes"));
  }
}

const GGUFValue* GGUFReader::find(const std::string& key) const {
  auto it = meta_index_.find(key);
  return it == meta_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GGUFValue& GGUFReader::get(const std::string& key) const {
  const GGUFValue* v = find(key);
  KILN_REQUIRE(v, "gguf '", path_, "': no metadata key '", key, "'");
  return *v;
}

const GGUFTensorInfo* GGUFReader::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Tensor GGUFReader::tensor(const std::string& name) const {
  const GGUFTensorInfo* t = find_tensor(name);
  KILN_REQUIRE(t, "gguf '", path_, "': no tensor named '", name, "'");
  void* p = const_cast<uint8_t*>(base_ + data_offset_ + t->offset);
  if (reinterpret_cast<uintptr_t>(p) % natural_alignment(t->dtype) != 0) {
    Tensor out = Tensor::empty(t->shape, t->dtype);
    if (out.nbytes()) std::memcpy(out.raw_data(), p, out.nbytes());
    return out;
  }
  return Tensor::from_blob(p, t->shape, t->dtype, Device::cpu(),
                           std::const_pointer_cast<void>(owner_));
}

}  // namespace kiln::io
