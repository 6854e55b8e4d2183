#pragma once
// kiln's tokenizer: the tokenizer.json (with tokenizer_config.json) that Hugging Face models
// ship, or the tokenizer.ggml.* keys of a GGUF file, read into one Tokenizer that encodes text
// to ids and decodes ids to text exactly as the model's own tokenizer does.
//
// Supported: byte-level BPE (GPT-2, Llama-3, Qwen2/Qwen3 and their pre-tokenizer regexes) and
// SentencePiece-style BPE with byte fallback (Llama-2, TinyLlama, Mistral, Gemma), the
// normalizers, pre-tokenizers and decoders those files use, added and special tokens, and
// BOS/EOS as the config asks. WordPiece and Unigram models are refused with a clear error.
//
// Encoding runs added-token matching on the raw text, then per section: normalizer,
// pre-tokenizer, BPE. Text must be valid UTF-8 (invalid input throws kiln::Error naming the
// byte offset); unknown ids throw on decode. A Tokenizer is immutable and cheap to copy (it
// shares its tables); encode and decode may be called from many threads at once.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::io {
class GGUFReader;
}

namespace kiln::tokenizer {

struct EncodeOptions {
  bool add_special = false;   // add the BOS / EOS the tokenizer's config asks for
  bool parse_special = true;  // special tokens written in the text become their ids (as in
                              // Hugging Face); false treats them as plain text
};

// The special-token strings chat templates see as bos_token, eos_token, ... ("" when unset).
struct SpecialTokens {
  std::string bos, eos, unk, pad;
};

namespace detail {
struct TokenizerData;
}

class Tokenizer {
 public:
  // A tokenizer.json, a folder holding one (tokenizer_config.json beside it is read too), or a
  // .gguf file. Throws kiln::Error naming the file and what is wrong with it.
  static Tokenizer load(const std::string& path);
  // From the texts of tokenizer.json and tokenizer_config.json ("" when there is none).
  static Tokenizer from_json(std::string_view tokenizer_json, std::string_view config_json = "",
                             const std::string& name = "tokenizer.json");
  static Tokenizer from_gguf(const io::GGUFReader& gguf);

  std::vector<int32_t> encode(std::string_view text, bool add_special = false) const;
  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options) const;
  // Appends to `out` (no reallocation per call for callers that reuse one buffer).
  void encode_into(std::string_view text, const EncodeOptions& options,
                   std::vector<int32_t>& out) const;

  // Text of the ids; invalid UTF-8 from partial byte tokens becomes U+FFFD. skip_special drops
  // special tokens (added tokens marked special, and the config's additional_special_tokens).
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  int32_t vocab_size() const;  // one past the largest id
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> pad_id() const;
  std::optional<int32_t> unk_id() const;
  bool add_bos() const;  // encode(..., add_special=true) starts with BOS
  bool add_eos() const;  // ... and ends with EOS
  std::optional<int32_t> token_id(std::string_view token) const;  // exact vocabulary entry
  const std::string& id_to_token(int32_t id) const;  // as stored (e.g. "Ġthe"); throws if unknown
  bool is_special(int32_t id) const;
  const SpecialTokens& special_tokens() const;
  // The chat template of tokenizer_config.json (or tokenizer.chat_template in GGUF); "" if none.
  const std::string& chat_template() const;
  const std::string& name() const;  // the path it was loaded from, for messages

 private:
  friend class StreamDecoder;
  explicit Tokenizer(std::shared_ptr<const detail::TokenizerData> d) : d_(std::move(d)) {}
  std::string decode_bytes(std::span<const int32_t> ids, bool skip_special) const;
  std::shared_ptr<const detail::TokenizerData> d_;
};

// Decodes a stream of ids one at a time, for servers that send text as it is generated. A token
// that ends inside a UTF-8 character is held until the character is complete, and each push
// returns exactly the text that decode() of all ids so far adds to what was returned before.
class StreamDecoder {
 public:
  explicit StreamDecoder(Tokenizer tokenizer, bool skip_special = false);
  std::string push(int32_t id);  // the newly completed text, possibly ""
  std::string finish();          // what is still held (an incomplete tail becomes U+FFFD)

 private:
  std::string release(std::string text, bool final);
  Tokenizer tok_;
  bool skip_special_;
  std::vector<int32_t> ids_;
  size_t prefix_ = 0, read_ = 0;  // the window decoded for context, and where new ids start
  std::string held_;              // text held back while clean-up may still change it
};

}  // namespace kiln::tokenizer
