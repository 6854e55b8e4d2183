#include "kiln/tokenizer/decoder.h"

#include <nlohmann/json.hpp>

#include "kiln/core/error.h"
#include "kiln/tokenizer/byte_level.h"
#include "kiln/tokenizer/json_fields.h"
#include "kiln/tokenizer/normalizer.h"
#include "kiln/tokenizer/pattern.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

namespace {

class ByteLevel final : public Decoder {
 public:
  void apply(DecodeTokens& t) const override {
    std::string raw;
    for (size_t i = 0; i < t.text.size(); ++i) {
      if (t.added[i]) continue;
      // A token outside the byte alphabet keeps its own bytes (tokenizers does the same).
      if (from_byte_level(t.text[i], raw)) t.text[i].swap(raw);
    }
  }
};

class Replace final : public Decoder {
 public:
  Replace(const nlohmann::json& j, std::string_view where) {
    bool regex = json_pattern(json_field(j, "pattern", where), where, from_);
    to_ = json_string(j, "content", where);
    KILN_REQUIRE(!regex, where, ": Replace decoders with a regex pattern are not supported");
    KILN_REQUIRE(!from_.empty(), where, ": Replace with an empty pattern");
  }
  struct Literal {};
  Replace(Literal, std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  void apply(DecodeTokens& t) const override {
    for (auto& s : t.text)
      if (s.find(from_) != std::string::npos) s = replace_all(s, from_, to_);
  }

 private:
  std::string from_, to_;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

class ByteFallback final : public Decoder {
 public:
  void apply(DecodeTokens& t) const override {
    DecodeTokens out;
    bool in_run = false;
    for (size_t i = 0; i < t.text.size(); ++i) {
      const std::string& s = t.text[i];
      int hi = -1, lo = -1;
      if (s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>') {
        hi = hex_digit(s[3]);
        lo = hex_digit(s[4]);
      }
      if (hi >= 0 && lo >= 0) {
        if (!in_run) {
          out.text.emplace_back();
          out.added.push_back(false);
          in_run = true;
        }
        out.text.back().push_back(char(hi * 16 + lo));
        continue;
      }
      in_run = false;
      out.text.push_back(std::move(t.text[i]));
      out.added.push_back(t.added[i]);
    }
    t = std::move(out);
  }
};

class Fuse final : public Decoder {
 public:
  void apply(DecodeTokens& t) const override {
    std::string all;
    for (const auto& s : t.text) all += s;
    t.text.assign(1, std::move(all));
    t.added.assign(1, false);
  }
};

class Strip final : public Decoder {
 public:
  Strip(std::string content, int64_t start, int64_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void apply(DecodeTokens& t) const override {
    for (auto& s : t.text) {
      size_t b = 0, e = s.size();
      for (int64_t k = 0; k < start_ && s.compare(b, content_.size(), content_) == 0 && b < e; ++k)
        b += content_.size();
      for (int64_t k = 0; k < stop_ && e >= b + content_.size() &&
                          s.compare(e - content_.size(), content_.size(), content_) == 0;
           ++k)
        e -= content_.size();
      if (b > 0 || e < s.size()) s = s.substr(b, e - b);
    }
  }

 private:
  std::string content_;
  int64_t start_, stop_;
};

class Metaspace final : public Decoder {
 public:
  Metaspace(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void apply(DecodeTokens& t) const override {
    for (size_t i = 0; i < t.text.size(); ++i) {
      std::string& s = t.text[i];
      if (s.find(replacement_) != std::string::npos) s = replace_all(s, replacement_, " ");
      if (i == 0 && strip_first_ && !s.empty() && s[0] == ' ') s.erase(0, 1);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class Sequence final : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void apply(DecodeTokens& t) const override {
    for (const auto& s : steps_) s->apply(t);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j) {
  if (j.is_null()) return nullptr;
  const std::string where = "tokenizer.json decoder";
  std::string type = json_string(j, "type", where);
  if (type == "ByteLevel") return std::make_unique<ByteLevel>();
  if (type == "Replace") return std::make_unique<Replace>(j, where + " Replace");
  if (type == "ByteFallback") return std::make_unique<ByteFallback>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip") {
    std::string content = json_string(j, "content", where, " ");
    KILN_REQUIRE(!content.empty(), where, " Strip: empty content");
    return std::make_unique<Strip>(content, json_int(j, "start", where, 0),
                                   json_int(j, "stop", where, 0));
  }
  if (type == "Metaspace") {
    bool strip = json_bool(j, "add_prefix_space", where, true);
    std::string scheme = json_string(j, "prepend_scheme", where, strip ? "always" : "never");
    return std::make_unique<Metaspace>(json_string(j, "replacement", where, "\xE2\x96\x81"),
                                       scheme != "never");
  }
  if (type == "Sequence") {
    const auto& list = json_field(j, "decoders", where);
    KILN_REQUIRE(list.is_array(), where, ".decoders: expected an array, found ", list.type_name());
    std::vector<std::unique_ptr<Decoder>> steps;
    for (const auto& d : list)
      if (auto s = make_decoder(d)) steps.push_back(std::move(s));
    return std::make_unique<Sequence>(std::move(steps));
  }
  KILN_REQUIRE(false, where, ": type \"", type,
               "\" is not supported; kiln implements ByteLevel, Replace, ByteFallback, Fuse, "
               "Strip, Metaspace and Sequence");
  return nullptr;
}

std::unique_ptr<Decoder> make_spm_decoder(int strip_leading) {
  std::vector<std::unique_ptr<Decoder>> steps;
  steps.push_back(std::make_unique<Replace>(Replace::Literal{}, "\xE2\x96\x81", " "));
  steps.push_back(std::make_unique<ByteFallback>());
  steps.push_back(std::make_unique<Fuse>());
  if (strip_leading > 0) steps.push_back(std::make_unique<Strip>(" ", strip_leading, 0));
  return std::make_unique<Sequence>(std::move(steps));
}

std::unique_ptr<Decoder> make_byte_level_decoder() {
  return std::make_unique<ByteLevel>();
}

}  // namespace kiln::tokenizer
