// Hand-written matchers for the GPT-2 and Llama-3 / Qwen2 pre-tokenizer regexes (pattern.h).
//
// Both regexes match at every position (each character is a letter, a number, white space or
// "other", and some alternative takes each class), so a matcher only computes where the match
// that starts at `from` ends, following the regex's alternatives in order:
//
//   GPT-2:   's|'t|'re|'ve|'m|'ll|'d | ?L+ | ?N+ | ?O+ | \s+(?!\S) | \s+
//   Llama-3: (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\nLN]?L+ | N{1,3} | ?O+[\r\n]* | \s*[\r\n]+
//            | \s+(?!\S) | \s+                    (Qwen2: N instead of N{1,3})
//
// where O is "neither white space, letter nor number". For a run of white space [i, j):
// \s*[\r\n]+ ends after the run's last \r or \n; \s+(?!\S) takes the whole run at the end of
// the text and otherwise all of it but its last character (which then leads the next match);
// a run of one character before non-space falls to \s+.
#include "kiln/tokenizer/pattern.h"
#include "kiln/tokenizer/unicode.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

namespace {

struct Char {
  char32_t cp;
  size_t len;
  CharClass cls;
};

inline Char char_at(std::string_view t, size_t i) {
  auto b = static_cast<unsigned char>(t[i]);
  if (b < 0x80) return {b, 1, detail::kAsciiClass[b]};
  size_t j = i;
  char32_t cp = next_code_point(t, j);
  return {cp, j - i, unicode_char_class(cp)};
}

// End of the run of characters of class `cls` starting at i.
inline size_t run_end(std::string_view t, size_t i, CharClass cls) {
  while (i < t.size()) {
    auto b = static_cast<unsigned char>(t[i]);
    if (b < 0x80) {
      if (detail::kAsciiClass[b] != cls) break;
      ++i;
      continue;
    }
    Char c = char_at(t, i);
    if (c.cls != cls) break;
    i += c.len;
  }
  return i;
}

inline bool is_class(std::string_view t, size_t i, CharClass cls) {
  return i < t.size() && char_at(t, i).cls == cls;
}

// Tail of white space (\s+(?!\S) then \s+), for a run that starts at i.
inline size_t space_tail(std::string_view t, size_t i) {
  size_t last = i, j = i;
  int count = 0;
  while (j < t.size()) {
    Char c = char_at(t, j);
    if (c.cls != CharClass::kSpace) break;
    last = j;
    j += c.len;
    ++count;
  }
  if (j == t.size() || count == 1) return j;
  return last;
}

// Length of a contraction after the apostrophe at i, or 0. `fold` matches case-insensitively
// (Unicode simple case folding, so long s U+017F counts as s).
size_t contraction(std::string_view t, size_t i, bool fold) {
  size_t n = t.size();
  if (i + 1 >= n) return 0;
  auto lower = [&](size_t k, size_t& len) -> char32_t {
    Char c = char_at(t, k);
    len = c.len;
    if (!fold) return c.cp;
    if (c.cp >= 'A' && c.cp <= 'Z') return c.cp + 32;
    if (c.cp == 0x17F) return 's';
    return c.cp;
  };
  size_t l1 = 0, l2 = 0;
  char32_t a = lower(i + 1, l1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 1 + l1;
  if ((a == 'r' || a == 'v' || a == 'l') && i + 1 + l1 < n) {
    char32_t b = lower(i + 1 + l1, l2);
    if ((a == 'l' && b == 'l') || (a != 'l' && b == 'e')) return 1 + l1 + l2;
  }
  return 0;
}

class Gpt2Pattern final : public Pattern {
 public:
  bool find(std::string_view t, size_t from, size_t& start, size_t& end) const override {
    if (from >= t.size()) return false;
    start = from;
    end = match(t, from);
    return true;
  }

 private:
  static size_t match(std::string_view t, size_t i) {
    if (t[i] == '\'') {
      if (size_t k = contraction(t, i, false)) return i + k;
    }
    if (t[i] == ' ' && i + 1 < t.size()) {
      CharClass next = char_at(t, i + 1).cls;
      if (next != CharClass::kSpace) return run_end(t, i + 1, next);
    }
    Char c = char_at(t, i);
    if (c.cls != CharClass::kSpace) return run_end(t, i, c.cls);
    return space_tail(t, i);
  }
};

class Llama3Pattern final : public Pattern {
 public:
  explicit Llama3Pattern(int max_digits) : max_digits_(max_digits) {}
  bool find(std::string_view t, size_t from, size_t& start, size_t& end) const override {
    if (from >= t.size()) return false;
    start = from;
    end = match(t, from);
    return true;
  }

 private:
  size_t match(std::string_view t, size_t i) const {
    if (t[i] == '\'') {
      if (size_t k = contraction(t, i, true)) return i + k;
    }
    Char c = char_at(t, i);
    if (c.cls == CharClass::kLetter) return run_end(t, i, CharClass::kLetter);
    if (c.cls == CharClass::kNumber) {
      size_t j = i;
      for (int k = 0; k < max_digits_ && j < t.size(); ++k) {
        Char d = char_at(t, j);
        if (d.cls != CharClass::kNumber) break;
        j += d.len;
      }
      return j;
    }
    bool newline = c.cp == '\r' || c.cp == '\n';
    if (!newline && is_class(t, i + c.len, CharClass::kLetter))
      return run_end(t, i + c.len, CharClass::kLetter);
    size_t other_from = c.cls == CharClass::kOther                             ? i
                        : c.cp == ' ' && is_class(t, i + 1, CharClass::kOther) ? i + 1
                                                                               : t.size();
    if (other_from < t.size()) {
      size_t j = run_end(t, other_from, CharClass::kOther);
      while (j < t.size() && (t[j] == '\r' || t[j] == '\n')) ++j;
      return j;
    }
    // White space: \s*[\r\n]+ if the run holds a line break, else the GPT-2 tail.
    size_t j = i, after_break = 0;
    while (j < t.size()) {
      Char s = char_at(t, j);
      if (s.cls != CharClass::kSpace) break;
      j += s.len;
      if (s.cp == '\r' || s.cp == '\n') after_break = j;
    }
    if (after_break) return after_break;
    return space_tail(t, i);
  }

  int max_digits_;
};

}  // namespace

std::unique_ptr<Pattern> compile_regex(std::string_view regex, std::string_view where) {
  if (regex == kGpt2Regex) return std::make_unique<Gpt2Pattern>();
  if (regex == kLlama3Regex) return std::make_unique<Llama3Pattern>(3);
  if (regex == kQwen2Regex) return std::make_unique<Llama3Pattern>(1);
  return compile_pcre2(regex, where);
}

}  // namespace kiln::tokenizer
