#include "kiln/io/safetensors.h"

#include <cstring>
#include <nlohmann/json.hpp>

namespace kiln::io {

using json = nlohmann::json;

DType safetensors_dtype(const std::string& n) {
  static const std::map<std::string, DType> m = {
      {"F32", DType::F32}, {"F64", DType::F64}, {"BF16", DType::BF16},
      {"F16", DType::F16}, {"I32", DType::I32}, {"I64", DType::I64},
      {"U8", DType::U8},   {"I8", DType::I8},   {"BOOL", DType::U8}};
  auto it = m.find(n);
  KILN_REQUIRE(it != m.end(), "unsupported safetensors dtype '", n,
               "' (expected F32, F64, BF16, F16, I32, I64, U8, I8 or BOOL)");
  return it->second;
}

const char* safetensors_dtype_name(DType dt) {
  switch (dt) {
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
    case DType::BF16:
      return "BF16";
    case DType::F16:
      return "F16";
    case DType::I32:
      return "I32";
    case DType::I64:
      return "I64";
    case DType::U8:
      return "U8";
    case DType::I8:
      return "I8";
    default:
      break;
  }
  throw Error(str("safetensors cannot store dtype ", dtype_name(dt)));
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  auto m = MappedFile::open(path);
  owner_ = m;
  parse(m->data(), m->size());
}

SafetensorsFile SafetensorsFile::from_memory(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                             const std::string& name) {
  SafetensorsFile f;
  f.path_ = name;
  f.owner_ = bytes;
  f.parse(bytes->data(), bytes->size());
  return f;
}

void SafetensorsFile::parse(const uint8_t* data, size_t size) {
  base_ = data;
  KILN_REQUIRE(size >= 8, "safetensors '", path_, "': file is ", size,
               " bytes, too short for the 8-byte header length");
  uint64_t hlen = 0;
  std::memcpy(&hlen, data, 8);
  KILN_REQUIRE(hlen <= size - 8, "safetensors '", path_, "': header length ", hlen,
               " runs past the end of the file (", size, " bytes)");
  json h;
  try {
    h = json::parse(data + 8, data + 8 + hlen);
  } catch (const json::exception& e) {
    throw Error(str("safetensors '", path_, "': header is not valid JSON: ", e.what()));
  }
  KILN_REQUIRE(h.is_object(), "safetensors '", path_, "': header is not a JSON object");
  size_t data_start = 8 + size_t(hlen);
  size_t data_size = size - data_start;
  for (auto it = h.begin(); it != h.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      KILN_REQUIRE(v.is_object(), "safetensors '", path_, "': __metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m)
        if (m.value().is_string()) metadata_[m.key()] = m.value().get<std::string>();
      continue;
    }
    auto where = [&](const char* field) {
      return str("safetensors '", path_, "': tensor '", name, "': field '", field, "'");
    };
    KILN_REQUIRE(v.is_object(), where("entry"), " is not an object");
    KILN_REQUIRE(v.contains("dtype") && v["dtype"].is_string(), where("dtype"),
                 " is missing or not a string");
    KILN_REQUIRE(v.contains("shape") && v["shape"].is_array(), where("shape"),
                 " is missing or not an array");
    KILN_REQUIRE(
        v.contains("data_offsets") && v["data_offsets"].is_array() && v["data_offsets"].size() == 2,
        where("data_offsets"), " must be an array of two offsets");
    Entry e;
    try {
      e.dtype = safetensors_dtype(v["dtype"].get<std::string>());
    } catch (const Error& err) {
      throw Error(str(where("dtype"), ": ", err.what()));
    }
    int64_t numel = 1;
    for (const json& d : v["shape"]) {
      KILN_REQUIRE(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0),
                   where("shape"), " has a dimension that is not a non-negative integer");
      int64_t n = d.get<int64_t>();
      KILN_REQUIRE(n == 0 || numel <= (int64_t(1) << 50) / n, where("shape"), " is too large");
      e.shape.push_back(n);
      numel *= n;
    }
    for (const json& o : v["data_offsets"])
      KILN_REQUIRE(o.is_number_unsigned(), where("data_offsets"), " holds a non-integer");
    uint64_t b = v["data_offsets"][0].get<uint64_t>(), en = v["data_offsets"][1].get<uint64_t>();
    KILN_REQUIRE(b <= en && en <= data_size, where("data_offsets"), " [", b, ", ", en,
                 "] lies outside the data section of ", data_size, " bytes");
    size_t want = dtype_nbytes(e.dtype, numel);
    KILN_REQUIRE(en - b == want, where("data_offsets"), " spans ", en - b, " bytes but shape ",
                 shape_str(e.shape), " of ", dtype_name(e.dtype), " needs ", want);
    e.begin = data_start + b;
    e.end = data_start + en;
    entries_[name] = e;
    names_.push_back(name);
  }
}

const SafetensorsFile::Entry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  KILN_REQUIRE(it != entries_.end(), "safetensors '", path_, "': no tensor named '", name, "'");
  return it->second;
}

Shape SafetensorsFile::shape(const std::string& name) const {
  return entry(name).shape;
}
DType SafetensorsFile::dtype(const std::string& name) const {
  return entry(name).dtype;
}

Tensor SafetensorsFile::get(const std::string& name) const {
  const Entry& e = entry(name);
  void* p = const_cast<uint8_t*>(base_ + e.begin);
  // Data offsets need not be aligned; an unaligned tensor is copied so kernels see aligned data.
  if (reinterpret_cast<uintptr_t>(p) % dtype_info(e.dtype).block_bytes != 0) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    std::memcpy(t.raw_data(), p, e.end - e.begin);
    return t;
  }
  return Tensor::from_blob(p, e.shape, e.dtype, Device::cpu(),
                           std::const_pointer_cast<void>(owner_));
}

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json h = json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  std::vector<Tensor> host;
  size_t off = 0;
  for (const auto& [name, t] : tensors) {
    KILN_REQUIRE(!h.contains(name), "save_safetensors: tensor name '", name, "' repeated");
    Tensor c = t.to(Device::cpu()).contiguous();
    size_t n = c.nbytes();
    h[name] = {{"dtype", safetensors_dtype_name(c.dtype())},
               {"shape", c.sizes()},
               {"data_offsets", {off, off + n}}};
    off += n;
    host.push_back(c);
  }
  std::string hs = h.dump();
  hs.append((8 - hs.size() % 8) % 8, ' ');  // pad so the data section starts 8-byte aligned
  write_atomically(path, [&](std::FILE* f) {
    uint64_t len = hs.size();
    bool ok =
        std::fwrite(&len, 8, 1, f) == 1 && std::fwrite(hs.data(), 1, hs.size(), f) == hs.size();
    for (const Tensor& t : host)
      ok = ok && (t.nbytes() == 0 || std::fwrite(t.raw_data(), 1, t.nbytes(), f) == t.nbytes());
    KILN_REQUIRE(ok, "cannot write '", path, "'");
  });
}

}  // namespace kiln::io
