#pragma once
// The text of one generated sequence as it streams: token ids become UTF-8 through the
// tokenizer's stream decoder, stop strings cut it, and a tail that may be the start of a stop
// string is held back until the next token settles it (the same rules as `kiln generate`).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/tokenizer/tokenizer.h"

namespace kiln::serve {

class TextStream {
 public:
  TextStream(const tokenizer::Tokenizer* tok, std::vector<std::string> stops, bool skip_special);
  // Adds a token's text; returns what may be released now. Sets stopped() when a stop string
  // completes (the text is cut right before it).
  std::string push(int32_t id);
  // The sequence ended: releases everything held back.
  std::string finish();
  bool stopped() const { return stopped_; }
  const std::string& text() const { return text_; }

 private:
  std::string release(bool all);
  std::optional<tokenizer::StreamDecoder> decoder_;
  std::vector<std::string> stops_;
  std::string text_;
  size_t emitted_ = 0;
  bool stopped_ = false;
};

// Splits a Qwen3-style reply into its reasoning (inside <think>...</think> at the start) and
// its content, as pieces stream in. A tail that may be the start of a tag is held back.
class ReasoningSplit {
 public:
  struct Piece {
    std::string reasoning, content;
  };
  Piece push(std::string_view text);
  Piece finish();

 private:
  enum class State { Start, Thinking, AfterThinking, Content };
  Piece drain(bool all);
  State state_ = State::Start;
  std::string pending_;
};

}  // namespace kiln::serve
