#pragma once
// Pre-tokenizers of tokenizer.json: Split, ByteLevel, Metaspace, Digits, Punctuation,
// Whitespace, WhitespaceSplit and Sequence. They cut a normalized section into the pieces
// the model encodes one at a time. Pieces are streamed to a callback as views, valid during the
// call, so a section is never copied into a list of strings.
#include <memory>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "kiln/tokenizer/function_ref.h"

namespace kiln::tokenizer {

// A piece and whether it starts the text (for Metaspace's prepend_scheme "first").
using PieceSink = FunctionRef<void(std::string_view, bool)>;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Emits the pieces of `piece` in order. `first`: the piece starts the text.
  virtual void split(std::string_view piece, bool first, PieceSink emit) const = 0;
};

// Split delimiter behaviours, with Hugging Face tokenizers' meanings.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// The pre-tokenizer a tokenizer.json "pre_tokenizer" describes; nullptr for null.
// `bytes_model`: the last step is ByteLevel and the model reads raw bytes, so that step only
// splits and leaves the bytes unmapped (the BPE model maps them itself, faster).
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, bool bytes_model);

// True when the pre-tokenizer's last step is ByteLevel.
bool ends_with_byte_level(const nlohmann::json& j);

// Building blocks, also used for GGUF vocabularies, which name their pre-tokenizer instead of
// describing it.
std::unique_ptr<PreTokenizer> make_regex_split(std::string_view regex, SplitBehavior b,
                                               bool invert);
std::unique_ptr<PreTokenizer> make_digits(bool individual);
std::unique_ptr<PreTokenizer> make_punctuation(SplitBehavior b);
std::unique_ptr<PreTokenizer> make_sequence(std::unique_ptr<PreTokenizer> a,
                                            std::unique_ptr<PreTokenizer> b);

}  // namespace kiln::tokenizer
