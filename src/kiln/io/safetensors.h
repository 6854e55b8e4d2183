#pragma once
// Hugging Face safetensors: an 8-byte little-endian header length, a JSON header mapping names to
// {dtype, shape, data_offsets}, then the raw bytes. Reading memory-maps the file and returns
// zero-copy tensors; writing goes through a temporary file and a rename.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kiln/core/tensor.h"
#include "kiln/io/mmap.h"

namespace kiln::io {

class SafetensorsFile {
 public:
  // Parses and validates the header; throws kiln::Error naming the file and the bad field.
  explicit SafetensorsFile(const std::string& path);
  // Same, from bytes already in memory (for fuzzing); `bytes` must outlive the tensors' use.
  static SafetensorsFile from_memory(std::shared_ptr<const std::vector<uint8_t>> bytes,
                                     const std::string& name = "<memory>");

  const std::string& path() const { return path_; }
  const std::vector<std::string>& names() const { return names_; }  // in header order
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  // Zero-copy tensor; throws naming the tensor and file when absent.
  Tensor get(const std::string& name) const;
  Shape shape(const std::string& name) const;
  DType dtype(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Entry {
    DType dtype;
    Shape shape;
    size_t begin, end;  // absolute byte offsets in the file
  };
  SafetensorsFile() = default;
  void parse(const uint8_t* data, size_t size);
  const Entry& entry(const std::string& name) const;

  std::string path_;
  std::shared_ptr<const void> owner_;  // the mapping or buffer the tensors point into
  const uint8_t* base_ = nullptr;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (any device; copied to host) in the given order, atomically.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// safetensors dtype names ("F32", "BF16", ...) to and from kiln dtypes.
DType safetensors_dtype(const std::string& name);
const char* safetensors_dtype_name(DType dt);

}  // namespace kiln::io
