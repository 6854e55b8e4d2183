#include "kiln/tokenizer/added_tokens.h"

#include <algorithm>

#include "kiln/tokenizer/unicode.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

AddedTokenMatcher::AddedTokenMatcher() {
  std::fill(std::begin(root_next_), std::end(root_next_), -1);
}

int32_t AddedTokenMatcher::child(int32_t node, unsigned char b) const {
  if (node == 0) return root_next_[b];
  const auto& next = nodes_[size_t(node)].next;
  auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, int32_t(-1)));
  return it != next.end() && it->first == b ? it->second : -1;
}

void AddedTokenMatcher::add(const AddedToken& t) {
  if (t.content.empty()) return;
  int32_t node = 0;
  for (char ch : t.content) {
    auto b = static_cast<unsigned char>(ch);
    int32_t c = child(node, b);
    if (c < 0) {
      c = int32_t(nodes_.size());
      nodes_.emplace_back();
      if (node == 0) {
        root_next_[b] = c;
      } else {
        auto& next = nodes_[size_t(node)].next;
        next.insert(std::lower_bound(next.begin(), next.end(), std::make_pair(b, int32_t(-1))),
                    {b, c});
      }
    }
    node = c;
  }
  if (nodes_[size_t(node)].token >= 0) {
    tokens_[size_t(nodes_[size_t(node)].token)] = t;
  } else {
    nodes_[size_t(node)].token = int32_t(tokens_.size());
    tokens_.push_back(t);
  }
}

namespace {

bool word_char_before(std::string_view text, size_t i) {
  if (i == 0) return false;
  size_t k = i - 1;
  while (k > 0 && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) --k;
  size_t j = k;
  char32_t cp = next_code_point(text, j);
  return cp == '_' || char_class(cp) == CharClass::kLetter || char_class(cp) == CharClass::kNumber;
}

bool word_char_at(std::string_view text, size_t i) {
  if (i >= text.size()) return false;
  char32_t cp = next_code_point(text, i);
  return cp == '_' || char_class(cp) == CharClass::kLetter || char_class(cp) == CharClass::kNumber;
}

// Extent of the white space that ends at `end` (going left) or starts at `begin` (going right).
size_t space_before(std::string_view text, size_t lo, size_t end) {
  while (end > lo) {
    size_t k = end - 1;
    while (k > lo && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) --k;
    size_t j = k;
    if (!is_white_space(next_code_point(text, j))) break;
    end = k;
  }
  return end;
}

size_t space_after(std::string_view text, size_t begin, size_t hi) {
  while (begin < hi) {
    size_t j = begin;
    if (!is_white_space(next_code_point(text, j))) break;
    begin = j;
  }
  return begin;
}

}  // namespace

size_t AddedTokenMatcher::longest(std::string_view text, size_t i, bool parse_special,
                                  int32_t& which) const {
  size_t best = 0;
  int32_t node = 0;
  for (size_t j = i; j < text.size(); ++j) {
    node = child(node, static_cast<unsigned char>(text[j]));
    if (node < 0) break;
    int32_t t = nodes_[size_t(node)].token;
    if (t >= 0 && (parse_special || !tokens_[size_t(t)].special)) {
      best = j + 1;
      which = t;
    }
  }
  if (best && tokens_[size_t(which)].single_word &&
      (word_char_before(text, i) || word_char_at(text, best)))
    return 0;
  return best;
}

void AddedTokenMatcher::split(std::string_view text, bool parse_special,
                              std::vector<Segment>& out) const {
  out.clear();
  size_t seg = 0, i = 0;
  while (i < text.size()) {
    if (root_next_[static_cast<unsigned char>(text[i])] < 0) {
      ++i;
      continue;
    }
    int32_t which = -1;
    size_t end = longest(text, i, parse_special, which);
    if (!end) {
      ++i;
      continue;
    }
    out.push_back({seg, i, -1});
    out.push_back({i, end, tokens_[size_t(which)].id});
    const AddedToken& t = tokens_[size_t(which)];
    size_t before = out.size() - 2;
    if (t.lstrip) out[before].end = space_before(text, out[before].begin, out[before].end);
    i = seg = t.rstrip ? space_after(text, end, text.size()) : end;
  }
  out.push_back({seg, text.size(), -1});
}

}  // namespace kiln::tokenizer
