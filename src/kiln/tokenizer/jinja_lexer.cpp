#include "kiln/tokenizer/jinja_lexer.h"

#include <algorithm>
#include <cctype>

#include "kiln/core/error.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer::jinja {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {
    if (!src_.empty() && src_.back() == '\n') {  // keep_trailing_newline=False
      src_.pop_back();
      if (!src_.empty() && src_.back() == '\r') src_.pop_back();
    }
  }

  std::vector<Token> run() {
    while (true) {
      size_t open = next_open(pos_);
      std::string text =
          src_.substr(pos_, open == std::string::npos ? std::string::npos : open - pos_);
      int text_line = line_;
      line_ += int(std::count(text.begin(), text.end(), '\n'));
      if (strip_next_) {
        size_t k = 0;
        while (k < text.size() && is_space(text[k])) ++k;
        text.erase(0, k);
        strip_next_ = false;
      }
      char kind = open == std::string::npos ? 0 : src_[open + 1];
      char mod = open != std::string::npos && open + 2 < src_.size() ? src_[open + 2] : 0;
      if (kind) {
        if (mod == '-') {
          while (!text.empty() && is_space(text.back())) text.pop_back();
        } else if (kind != '{' && mod != '+') {
          lstrip_line(text);
        }
      }
      if (!text.empty()) out_.push_back({Token::Kind::kText, text, text_line});
      if (!kind) break;
      pos_ = open + 2 + (mod == '-' || mod == '+' ? 1 : 0);
      if (kind == '#')
        comment();
      else if (kind == '%' && raw_block())
        continue;
      else
        tag(kind == '{');
    }
    out_.push_back({Token::Kind::kEnd, "", line_});
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(str("chat template line ", line_, ": ", msg));
  }

  size_t next_open(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1))
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
        return i;
    return std::string::npos;
  }

  // lstrip_blocks: spaces and tabs between a line start and a block tag go.
  void lstrip_line(std::string& text) const {
    size_t nl = text.rfind('\n');
    size_t from = nl == std::string::npos ? 0 : nl + 1;
    if (nl == std::string::npos && !line_starting_) return;
    for (size_t k = from; k < text.size(); ++k)
      if (!is_space(text[k])) return;
    text.erase(from);
  }

  // After a tag's closing delimiter: `-` strips the whitespace that follows, else trim_blocks
  // drops one newline after a block or comment tag.
  void after_close(bool block, char mod) {
    line_starting_ = false;
    if (mod == '-') {
      strip_next_ = true;
    } else if (block && mod != '+' && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
      ++line_;
      line_starting_ = true;
    }
  }

  void comment() {
    size_t close = src_.find("#}", pos_);
    if (close == std::string::npos) fail("unclosed comment");
    line_ += int(std::count(src_.begin() + std::ptrdiff_t(pos_),
                            src_.begin() + std::ptrdiff_t(close), '\n'));
    char mod =
        close > pos_ && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : 0;
    pos_ = close + 2;
    after_close(true, mod);
  }

  // {% raw %}...{% endraw %}: the text between is output as it stands.
  bool raw_block() {
    size_t p = pos_;
    while (p < src_.size() && is_space(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    while (p < src_.size() && is_space(src_[p])) ++p;
    char mod = 0;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) mod = src_[p++];
    if (src_.compare(p, 2, "%}") != 0) return false;
    pos_ = p + 2;
    after_close(true, mod);
    for (size_t q = src_.find("{%", pos_); q != std::string::npos; q = src_.find("{%", q + 2)) {
      size_t r = q + 2;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) ++r;
      while (r < src_.size() && is_space(src_[r])) ++r;
      if (src_.compare(r, 6, "endraw") != 0) continue;
      std::string text = src_.substr(pos_, q - pos_);
      if (strip_next_) {
        size_t k = 0;
        while (k < text.size() && is_space(text[k])) ++k;
        text.erase(0, k);
        strip_next_ = false;
      }
      if (src_[q + 2] == '-')
        while (!text.empty() && is_space(text.back())) text.pop_back();
      out_.push_back({Token::Kind::kText, text, line_});
      line_ += int(std::count(text.begin(), text.end(), '\n'));
      r += 6;
      while (r < src_.size() && is_space(src_[r])) ++r;
      char m = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) m = src_[r++];
      if (src_.compare(r, 2, "%}") != 0) fail("expected '%}' after endraw");
      pos_ = r + 2;
      after_close(true, m);
      return true;
    }
    fail("raw block without endraw");
  }

  void tag(bool var) {
    out_.push_back({var ? Token::Kind::kVarBegin : Token::Kind::kBlockBegin, "", line_});
    int depth = 0;
    while (true) {
      while (pos_ < src_.size() && is_space(src_[pos_])) {
        if (src_[pos_] == '\n') ++line_;
        ++pos_;
      }
      if (pos_ >= src_.size()) fail(var ? "unclosed '{{'" : "unclosed '{%'");
      if (depth == 0) {
        const char* close = var ? "}}" : "%}";
        char mod = 0;
        size_t at = pos_;
        if (src_[at] == '-' || (!var && src_[at] == '+')) mod = src_[at++];
        if (src_.compare(at, 2, close) == 0) {
          pos_ = at + 2;
          out_.push_back({var ? Token::Kind::kVarEnd : Token::Kind::kBlockEnd, "", line_});
          after_close(!var, mod);
          return;
        }
      }
      char c = src_[pos_];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t b = pos_;
        while (pos_ < src_.size() &&
               (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_'))
          ++pos_;
        out_.push_back({Token::Kind::kName, src_.substr(b, pos_ - b), line_});
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        number();
      } else if (c == '\'' || c == '"') {
        string(c);
      } else {
        static const char* kOps[] = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*",
                                     "/",  "%",  "~",  "<",  ">",  "=",  "(", ")", "[",
                                     "]",  "{",  "}",  ",",  ".",  ":",  "|"};
        const char* op = nullptr;
        for (const char* o : kOps)
          if (src_.compare(pos_, std::char_traits<char>::length(o), o) == 0) {
            op = o;
            break;
          }
        if (!op) fail(str("unexpected character '", c, "' in a tag"));
        if (op[0] == '(' || op[0] == '[' || op[0] == '{') ++depth;
        if ((op[0] == ')' || op[0] == ']' || op[0] == '}') && depth > 0) --depth;
        out_.push_back({Token::Kind::kOp, op, line_});
        pos_ += std::char_traits<char>::length(op);
      }
    }
  }

  void number() {
    size_t b = pos_;
    bool is_float = false;
    auto digits = [&] {
      while (pos_ < src_.size() &&
             (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_'))
        ++pos_;
    };
    digits();
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
      is_float = true;
      ++pos_;
      digits();
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t e = pos_ + 1;
      if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
      if (e < src_.size() && std::isdigit(static_cast<unsigned char>(src_[e]))) {
        is_float = true;
        pos_ = e;
        digits();
      }
    }
    std::string s = src_.substr(b, pos_ - b);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    out_.push_back({is_float ? Token::Kind::kFloat : Token::Kind::kInt, s, line_});
  }

  void string(char quote) {
    std::string s;
    ++pos_;
    while (true) {
      if (pos_ >= src_.size()) fail("unterminated string");
      char c = src_[pos_++];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\' || pos_ >= src_.size()) {
        s += c;
        continue;
      }
      char e = src_[pos_++];
      switch (e) {
        case 'n':
          s += '\n';
          break;
        case 't':
          s += '\t';
          break;
        case 'r':
          s += '\r';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 'v':
          s += '\v';
          break;
        case 'a':
          s += '\a';
          break;
        case '0':
          s += '\0';
          break;
        case '\\':
          s += '\\';
          break;
        case '\'':
          s += '\'';
          break;
        case '"':
          s += '"';
          break;
        case '\n':
          ++line_;
          break;
        case 'x':
        case 'u':
        case 'U': {
          size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          char32_t cp = 0;
          for (size_t k = 0; k < n; ++k, ++pos_) {
            if (pos_ >= src_.size() || !std::isxdigit(static_cast<unsigned char>(src_[pos_])))
              fail("truncated \\x / \\u escape in a string");
            char h = char(std::tolower(static_cast<unsigned char>(src_[pos_])));
            cp = cp * 16 + char32_t(h <= '9' ? h - '0' : h - 'a' + 10);
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            fail("invalid code point in a string escape");
          append_utf8(s, cp);
          break;
        }
        default:
          s += '\\';
          s += e;
      }
    }
    out_.push_back({Token::Kind::kString, s, line_});
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool strip_next_ = false, line_starting_ = true;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> lex_template(const std::string& source) {
  return Lexer(source).run();
}

}  // namespace kiln::tokenizer::jinja
