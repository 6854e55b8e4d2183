#pragma once
// Helpers for the GGUF tests: temporary paths, raw bytes, and a builder for hand-made files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kiln/core/error.h"

namespace kiln::io::testing {

inline std::string temp_path(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path();
  return (dir / ("kiln_gguf_" + tag + "_" + std::to_string(::getpid()) + ".gguf")).string();
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

// Little-endian bytes written field by field, to build files the writer would never produce.
struct Bytes {
  std::vector<uint8_t> b;
  template <class T>
  Bytes& put(T v) {
    size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& raw(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& str(const std::string& s) { return u64(s.size()).raw(s); }
  Bytes& pad(size_t a) {
    b.resize((b.size() + a - 1) / a * a);
    return *this;
  }
};

// Runs fn, expecting a kiln::Error whose message holds every fragment.
template <class F>
void expect_error(F fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected a kiln::Error mentioning '" << fragments.front() << "'";
  } catch (const Error& e) {
    std::string msg = e.what();
    for (const std::string& f : fragments)
      EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' missing from: " << msg;
  }
}

}  // namespace kiln::io::testing
