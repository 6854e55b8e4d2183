#pragma once
// A read-only memory-mapped file. Tensors loaded from safetensors and GGUF point into the mapping
// and keep it alive through their Storage, so weights are paged in on demand and shared with the
// page cache instead of being copied.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

namespace kiln::io {

class MappedFile {
 public:
  // Throws kiln::Error naming the path when it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return static_cast<const uint8_t*>(data_); }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  void* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Writes bytes to `path` atomically: a temporary file beside it, fsync, then rename.
// `write` is called with a FILE* to fill the temporary file.
void write_atomically(const std::string& path, const std::function<void(std::FILE*)>& write);

}  // namespace kiln::io
