#pragma once
// Normalizers of tokenizer.json: NFC / NFD / NFKC / NFKD, Replace, Prepend, Lowercase, Strip,
// StripAccents and Sequence. Each runs on one section of text between added tokens.
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace kiln::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Writes the normalized text to `out` and returns true, or returns false when `in` is
  // unchanged (the cheap, common case).
  virtual bool apply(std::string_view in, std::string& out) const = 0;
};

// The normalizer a tokenizer.json "normalizer" object describes; nullptr for null. Throws
// kiln::Error naming the type for one kiln does not implement (Precompiled, BertNormalizer).
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j);

// Replaces every occurrence of `from` by `to` (both literal), as the Replace steps do.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

}  // namespace kiln::tokenizer
