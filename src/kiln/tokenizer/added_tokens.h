#pragma once
// Added tokens (special tokens such as <|im_end|> and user-added ones such as <tool_call>) are
// found in the raw text before normalization and pre-tokenization, so that no normalizer or
// regex can break them apart. Matching is leftmost-longest over a byte trie, as in Hugging Face
// tokenizers; lstrip / rstrip swallow white space next to a match, single_word refuses matches
// inside a word.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::tokenizer {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false, normalized = false;
};

// One piece of a split: either text for the model (token < 0) or an added token's id.
struct Segment {
  size_t begin, end;  // byte range of the text (for an added token, the match itself)
  int32_t token;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher();
  void add(const AddedToken& t);  // later additions of the same content replace earlier ones
  bool empty() const { return tokens_.empty(); }
  // Splits `text` into text segments and added-token segments, in order. With parse_special
  // false, special tokens are left in the text. Text segments may be empty.
  void split(std::string_view text, bool parse_special, std::vector<Segment>& out) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> next;  // sorted by byte
    int32_t token = -1;                                   // index into tokens_
  };
  int32_t child(int32_t node, unsigned char b) const;
  // The longest acceptable match at i: its end, or 0 with `which` untouched.
  size_t longest(std::string_view text, size_t i, bool parse_special, int32_t& which) const;

  std::vector<Node> nodes_{Node{}};
  int32_t root_next_[256];  // the root's children, looked up at every byte of the text
  std::vector<AddedToken> tokens_;
};

}  // namespace kiln::tokenizer
