#include "kiln/tokenizer/normalizer.h"

#include <vector>

#include "kiln/core/error.h"
#include "kiln/tokenizer/json_fields.h"
#include "kiln/tokenizer/pattern.h"
#include "kiln/tokenizer/unicode.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (true) {
    size_t at = s.find(from, i);
    if (at == std::string_view::npos) break;
    out.append(s.substr(i, at - i));
    out.append(to);
    i = at + from.size();
  }
  out.append(s.substr(i));
  return out;
}

namespace {

class UnicodeForm final : public Normalizer {
 public:
  explicit UnicodeForm(NormalForm f) : form_(f) {}
  bool apply(std::string_view in, std::string& out) const override {
    return normalize(in, form_, out);
  }

 private:
  NormalForm form_;
};

class Replace final : public Normalizer {
 public:
  Replace(const nlohmann::json& j, std::string_view where) {
    std::string pat;
    bool regex = json_pattern(json_field(j, "pattern", where), where, pat);
    content_ = json_string(j, "content", where);
    if (regex)
      pattern_ = compile_regex(pat, where);
    else
      literal_ = pat;
    KILN_REQUIRE(regex || !literal_.empty(), where, ": Replace with an empty pattern");
  }
  bool apply(std::string_view in, std::string& out) const override {
    if (!pattern_) {
      if (in.find(literal_) == std::string_view::npos) return false;
      out = replace_all(in, literal_, content_);
      return true;
    }
    std::string r;
    size_t i = 0, from = 0, s, e;
    bool changed = false;
    while (from <= in.size() && pattern_->find(in, from, s, e)) {
      if (e == s) {  // an empty match replaces nothing; step over one character
        if (s >= in.size()) break;
        from = s + utf8_length(static_cast<unsigned char>(in[s]));
        continue;
      }
      r.append(in.substr(i, s - i));
      r.append(content_);
      i = from = e;
      changed = true;
    }
    if (!changed) return false;
    r.append(in.substr(i));
    out = std::move(r);
    return true;
  }

 private:
  std::string literal_, content_;
  std::unique_ptr<Pattern> pattern_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string p) : prefix_(std::move(p)) {}
  bool apply(std::string_view in, std::string& out) const override {
    if (in.empty() || prefix_.empty()) return false;
    out = prefix_;
    out.append(in);
    return true;
  }

 private:
  std::string prefix_;
};

class Lowercase final : public Normalizer {
 public:
  bool apply(std::string_view in, std::string& out) const override {
    std::string r = to_lower(in);
    if (r == in) return false;
    out = std::move(r);
    return true;
  }
};

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  bool apply(std::string_view in, std::string& out) const override {
    size_t b = 0, e = in.size();
    if (left_) {
      while (b < e) {
        size_t j = b;
        if (!is_white_space(next_code_point(in, j))) break;
        b = j;
      }
    }
    if (right_) {
      while (e > b) {
        size_t k = e - 1;
        while (k > b && (static_cast<unsigned char>(in[k]) & 0xC0) == 0x80) --k;
        size_t j = k;
        if (!is_white_space(next_code_point(in, j))) break;
        e = k;
      }
    }
    if (b == 0 && e == in.size()) return false;
    out = std::string(in.substr(b, e - b));
    return true;
  }

 private:
  bool left_, right_;
};

class StripAccents final : public Normalizer {
 public:
  bool apply(std::string_view in, std::string& out) const override {
    std::string r;
    bool changed = false;
    for (size_t i = 0; i < in.size();) {
      size_t j = i;
      char32_t cp = next_code_point(in, j);
      if (cp >= 0x300 && is_mark(cp))
        changed = true;
      else
        r.append(in.substr(i, j - i));
      i = j;
    }
    if (!changed) return false;
    out = std::move(r);
    return true;
  }
};

class Sequence final : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  bool apply(std::string_view in, std::string& out) const override {
    std::string cur, next;
    bool changed = false;
    for (const auto& s : steps_) {
      if (s->apply(changed ? std::string_view(cur) : in, next)) {
        cur.swap(next);
        changed = true;
      }
    }
    if (changed) out = std::move(cur);
    return changed;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j) {
  if (j.is_null()) return nullptr;
  const std::string where = "tokenizer.json normalizer";
  std::string type = json_string(j, "type", where);
  if (type == "NFC") return std::make_unique<UnicodeForm>(NormalForm::kNFC);
  if (type == "NFD") return std::make_unique<UnicodeForm>(NormalForm::kNFD);
  if (type == "NFKC") return std::make_unique<UnicodeForm>(NormalForm::kNFKC);
  if (type == "NFKD") return std::make_unique<UnicodeForm>(NormalForm::kNFKD);
  if (type == "Replace") return std::make_unique<Replace>(j, where + " Replace");
  if (type == "Prepend") return std::make_unique<Prepend>(json_string(j, "prepend", where));
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Strip")
    return std::make_unique<Strip>(json_bool(j, "strip_left", where, true),
                                   json_bool(j, "strip_right", where, true));
  if (type == "Sequence") {
    const auto& list = json_field(j, "normalizers", where);
    KILN_REQUIRE(list.is_array(), where, ".normalizers: expected an array, found ",
                 list.type_name());
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (const auto& n : list)
      if (auto s = make_normalizer(n)) steps.push_back(std::move(s));
    return std::make_unique<Sequence>(std::move(steps));
  }
  KILN_REQUIRE(false, where, ": type \"", type,
               "\" is not supported; kiln implements NFC, NFD, NFKC, NFKD, Replace, Prepend, "
               "Lowercase, Strip, StripAccents and Sequence");
  return nullptr;
}

}  // namespace kiln::tokenizer
