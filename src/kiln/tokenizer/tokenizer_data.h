#pragma once
// What a loaded Tokenizer holds; filled by the tokenizer.json and GGUF readers. Internal.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/tokenizer/added_tokens.h"
#include "kiln/tokenizer/bpe.h"
#include "kiln/tokenizer/decoder.h"
#include "kiln/tokenizer/normalizer.h"
#include "kiln/tokenizer/pretokenizer.h"
#include "kiln/tokenizer/tokenizer.h"

namespace kiln::tokenizer::detail {

enum class TokenKind : uint8_t { kNone, kModel, kAdded, kSpecial };

struct TokenizerData {
  std::string name;
  std::vector<std::string> tokens;  // id -> text as stored; "" for an id nothing uses
  std::vector<TokenKind> kinds;
  std::vector<bool> skip_on_decode;  // decode(skip_special = true) drops these
  StringIdMap added_ids;             // added tokens (the model's own are in model.vocab)

  AddedTokenMatcher added;             // matched in the raw text
  AddedTokenMatcher added_normalized;  // matched after normalization ("normalized": true)
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  BpeModel model;
  std::unique_ptr<Decoder> decoder;

  std::vector<int32_t> prefix, suffix;  // what add_special puts around the ids
  bool clean_up_spaces = false;
  std::optional<int32_t> bos, eos, pad, unk;
  SpecialTokens special;
  std::string chat_template;

  // Registers id -> text, growing the tables; a later kind wins for the same id. Model tokens
  // go in model.vocab separately.
  void set_token(int32_t id, const std::string& text, TokenKind kind);
  std::optional<int32_t> find(std::string_view text) const;
};

// The chat template and special-token strings of a tokenizer_config.json text.
void read_template_config(std::string_view config_json, const std::string& where,
                          std::string& chat_template, SpecialTokens& special);

}  // namespace kiln::tokenizer::detail
