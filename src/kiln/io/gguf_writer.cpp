#include <cstring>

#include "kiln/io/gguf.h"
#include "kiln/io/gguf_detail.h"
#include "kiln/io/mmap.h"

namespace kiln::io {

using detail::gguf_scalar_size;

namespace {

constexpr size_t kDefaultAlignment = 32;
constexpr size_t kGgmlMaxName = 64;  // llama.cpp's name buffer, terminator included
constexpr int64_t kGgmlMaxDims = 4;

class Buffer {
 public:
  template <class T>
  void put(T v) {
    append(&v, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    append(s.data(), s.size());
  }
  void put_bytes(const std::vector<uint8_t>& b) { append(b.data(), b.size()); }
  void pad_to(size_t alignment) {
    bytes_.resize((bytes_.size() + alignment - 1) / alignment * alignment);
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  void append(const void* p, size_t n) {
    if (n == 0) return;
    size_t at = bytes_.size();
    bytes_.resize(at + n);
    std::memcpy(bytes_.data() + at, p, n);
  }
  std::vector<uint8_t> bytes_;
};

void put_value(Buffer& b, const std::string& key, const GGUFValue& v) {
  b.put_string(key);
  b.put<uint32_t>(uint32_t(v.type()));
  if (v.is_array()) {
    b.put<uint32_t>(uint32_t(v.elem_type()));
    b.put<uint64_t>(v.size());
  }
  if (v.elem_type() == GGUFType::STRING) {
    if (v.is_array())
      for (const std::string& s : v.as_strings()) b.put_string(s);
    else
      b.put_string(v.as_string());
    return;
  }
  KILN_REQUIRE(v.raw().size() % gguf_scalar_size(v.elem_type()) == 0 &&
                   (v.is_array() || v.raw().size() == gguf_scalar_size(v.elem_type())),
               "GGUFWriter: key '", key, "' holds ", v.raw().size(), " bytes, not whole ",
               gguf_type_name(v.elem_type()), " values");
  b.put_bytes(v.raw());
}

size_t round_up(size_t x, size_t a) {
  return (x + a - 1) / a * a;
}

}  // namespace

void GGUFWriter::set(const std::string& key, GGUFValue v) {
  KILN_REQUIRE(!key.empty(), "GGUFWriter: empty metadata key");
  if (key == "general.alignment") {
    KILN_REQUIRE(v.type() == GGUFType::UINT32, "GGUFWriter: general.alignment must be a u32, got ",
                 gguf_type_name(v.type()));
    uint64_t a = v.as_uint();
    KILN_REQUIRE(a != 0 && (a & (a - 1)) == 0, "GGUFWriter: general.alignment ", a,
                 " is not a power of two");
  }
  for (auto& [k, old] : metadata_) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(v));
}

void GGUFWriter::add_tensor(const std::string& name, const Tensor& t) {
  auto where = [&] { return str("GGUFWriter: tensor '", name, "' "); };
  KILN_REQUIRE(!name.empty() && name.size() < kGgmlMaxName, where(), "has a name of ", name.size(),
               " bytes, expected 1 to ", kGgmlMaxName - 1);
  for (const auto& [n, _] : tensors_) KILN_REQUIRE(n != name, where(), "was already added");
  KILN_REQUIRE(t.dim() <= kGgmlMaxDims, where(), "has rank ", t.dim(), ", GGUF holds at most ",
               kGgmlMaxDims);
  for (int64_t d : t.sizes())
    KILN_REQUIRE(d > 0, where(), "has shape ", shape_str(t.sizes()),
                 "; llama.cpp cannot read a zero dimension");
  ggml_type_id(t.dtype());
  const DTypeInfo& info = dtype_info(t.dtype());
  int64_t inner = t.dim() ? t.size(-1) : 1;
  KILN_REQUIRE(inner % info.block_elems == 0, where(), "has rows of ", inner,
               " elements, not a multiple of the ", info.name, " block size ", info.block_elems);
  tensors_.emplace_back(name, t);
}

size_t GGUFWriter::alignment() const {
  for (const auto& [k, v] : metadata_)
    if (k == "general.alignment") return size_t(v.as_uint());
  return kDefaultAlignment;
}

void GGUFWriter::write(const std::string& path) const {
  const size_t align = alignment();
  Buffer head;
  head.put<uint32_t>(0x46554747u);  // "GGUF" read as a little-endian u32
  head.put<uint32_t>(3);
  head.put<uint64_t>(tensors_.size());
  head.put<uint64_t>(metadata_.size());
  for (const auto& [k, v] : metadata_) put_value(head, k, v);
  // llama.cpp requires each offset to follow the previous tensor padded to the alignment.
  size_t offset = 0;
  for (const auto& [name, t] : tensors_) {
    head.put_string(name);
    head.put<uint32_t>(uint32_t(t.dim()));
    for (int64_t d = t.dim() - 1; d >= 0; --d) head.put<uint64_t>(uint64_t(t.size(d)));
    head.put<uint32_t>(ggml_type_id(t.dtype()));
    head.put<uint64_t>(offset);
    offset += round_up(t.nbytes(), align);
  }
  head.pad_to(align);

  write_atomically(path, [&](std::FILE* f) {
    auto put = [&](const void* p, size_t n) {
      KILN_REQUIRE(n == 0 || std::fwrite(p, 1, n, f) == n, "cannot write '", path, "'");
    };
    put(head.bytes().data(), head.bytes().size());
    static const uint8_t zeros[256] = {};
    for (const auto& [name, t] : tensors_) {
      Tensor h = t.to(Device::cpu()).contiguous();
      put(h.raw_data(), h.nbytes());
      for (size_t pad = round_up(h.nbytes(), align) - h.nbytes(); pad > 0;) {
        size_t n = std::min(pad, sizeof(zeros));
        put(zeros, n);
        pad -= n;
      }
    }
  });
}

}  // namespace kiln::io
