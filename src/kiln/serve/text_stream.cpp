#include "kiln/serve/text_stream.h"

#include <algorithm>

namespace kiln::serve {

namespace {
// Length of the longest suffix of `s` (starting at or after `from`) that is a proper prefix of
// one of `tags`: text that the next piece may turn into a tag.
size_t partial_tag(std::string_view s, size_t from, const std::vector<std::string>& tags) {
  size_t hold = 0;
  for (const std::string& t : tags)
    for (size_t k = std::min(t.size() - 1, s.size() - from); k > hold; --k)
      if (s.substr(s.size() - k) == std::string_view(t).substr(0, k)) {
        hold = k;
        break;
      }
  return hold;
}
}  // namespace

TextStream::TextStream(const tokenizer::Tokenizer* tok, std::vector<std::string> stops,
                       bool skip_special)
    : stops_(std::move(stops)) {
  if (tok) decoder_.emplace(*tok, skip_special);
}

std::string TextStream::push(int32_t id) {
  if (decoder_) text_ += decoder_->push(id);
  return release(false);
}

std::string TextStream::finish() {
  if (decoder_ && !stopped_) text_ += decoder_->finish();
  return release(true);
}

std::string TextStream::release(bool all) {
  if (stopped_) return "";
  size_t cut = std::string::npos;
  for (const std::string& st : stops_) cut = std::min(cut, text_.find(st, emitted_));
  if (cut != std::string::npos) {
    text_.resize(cut);
    stopped_ = true;
    all = true;
  }
  size_t end = all ? text_.size() : text_.size() - partial_tag(text_, emitted_, stops_);
  std::string out = text_.substr(emitted_, end - emitted_);
  emitted_ = end;
  return out;
}

ReasoningSplit::Piece ReasoningSplit::push(std::string_view text) {
  pending_ += text;
  return drain(false);
}

ReasoningSplit::Piece ReasoningSplit::finish() {
  return drain(true);
}

ReasoningSplit::Piece ReasoningSplit::drain(bool all) {
  static const std::string open = "<think>", close = "</think>";
  Piece p;
  for (;;) {
    if (state_ == State::Start) {
      size_t ws = pending_.find_first_not_of(" \t\r\n");
      if (ws == std::string::npos && !all) return p;
      std::string_view rest = ws == std::string::npos ? "" : std::string_view(pending_).substr(ws);
      if (rest.starts_with(open)) {
        pending_.erase(0, ws + open.size());
        state_ = State::Thinking;
      } else if (!all && open.starts_with(rest)) {
        return p;  // may still become <think>
      } else {
        state_ = State::Content;
      }
    } else if (state_ == State::Thinking) {
      size_t at = pending_.find(close);
      if (at == std::string::npos) {
        size_t keep = all ? 0 : partial_tag(pending_, 0, {close});
        p.reasoning += pending_.substr(0, pending_.size() - keep);
        pending_.erase(0, pending_.size() - keep);
        return p;
      }
      p.reasoning += pending_.substr(0, at);
      pending_.erase(0, at + close.size());
      state_ = State::AfterThinking;
    } else if (state_ == State::AfterThinking) {
      // The template puts blank lines between the reasoning and the answer; they may come in
      // later pieces.
      size_t ws = pending_.find_first_not_of("\r\n");
      if (ws == std::string::npos) {
        pending_.clear();
        return p;
      }
      pending_.erase(0, ws);
      state_ = State::Content;
    } else {
      p.content += pending_;
      pending_.clear();
      return p;
    }
  }
}

}  // namespace kiln::serve
