#pragma once
// Decoders of tokenizer.json: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace and
// Sequence. They turn token strings back into text. Strings here are raw bytes that may hold
// partial UTF-8 (from byte tokens); the tokenizer turns the joined result into valid text last,
// which gives the same text as decoding each run of bytes on its own.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace kiln::tokenizer {

struct DecodeTokens {
  std::vector<std::string> text;
  std::vector<bool> added;  // an added token: ByteLevel passes it through unmapped
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void apply(DecodeTokens& t) const = 0;
};

// nullptr for null (tokens are then joined with spaces, as Hugging Face does).
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j);

// The decoders that SentencePiece-style tokenizers and GGUF "llama" vocabularies use:
// Replace("▁", " "), ByteFallback, Fuse, then Strip(" ", strip_leading, 0).
std::unique_ptr<Decoder> make_spm_decoder(int strip_leading);
std::unique_ptr<Decoder> make_byte_level_decoder();

}  // namespace kiln::tokenizer
