#include "kiln/tokenizer/pretokenizer.h"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kiln/core/error.h"
#include "kiln/tokenizer/byte_level.h"
#include "kiln/tokenizer/json_fields.h"
#include "kiln/tokenizer/normalizer.h"
#include "kiln/tokenizer/pattern.h"
#include "kiln/tokenizer/unicode.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

namespace {

// Matches one character, or a run of them, that satisfies a predicate.
template <class Pred>
class CharPattern final : public Pattern {
 public:
  CharPattern(Pred p, bool run) : pred_(p), run_(run) {}
  bool find(std::string_view t, size_t from, size_t& start, size_t& end) const override {
    size_t i = from;
    while (i < t.size()) {
      size_t j = i;
      if (pred_(next_code_point(t, j))) {
        start = i;
        end = j;
        while (run_ && end < t.size()) {
          size_t k = end;
          if (!pred_(next_code_point(t, k))) break;
          end = k;
        }
        return true;
      }
      i = j;
    }
    return false;
  }

 private:
  Pred pred_;
  bool run_;
};

template <class Pred>
std::unique_ptr<Pattern> char_pattern(Pred p, bool run) {
  return std::make_unique<CharPattern<Pred>>(p, run);
}

// Cuts a piece at the matches of a pattern and hands the parts on according to the behaviour.
class SplitStep final : public PreTokenizer {
 public:
  SplitStep(std::unique_ptr<Pattern> p, SplitBehavior b, bool invert)
      : pattern_(std::move(p)), behavior_(b), invert_(invert) {}

  void split(std::string_view piece, bool first, PieceSink emit) const override {
    struct Seg {
      size_t b, e;
      bool match;
    };
    Seg pending{0, 0, false};
    bool have = false, prev_match = false;
    auto out = [&](const Seg& s) {
      if (s.e > s.b) emit(piece.substr(s.b, s.e - s.b), first && s.b == 0);
    };
    auto take = [&](Seg s) {
      switch (behavior_) {
        case SplitBehavior::kRemoved:
          if (!s.match) out(s);
          break;
        case SplitBehavior::kIsolated:
          out(s);
          break;
        case SplitBehavior::kMergedWithPrevious:
          if (s.match && !prev_match && have) {
            pending.e = s.e;
          } else {
            if (have) out(pending);
            pending = s;
            have = true;
          }
          break;
        case SplitBehavior::kMergedWithNext:
          if (have && pending.match && !s.match) {
            out({pending.b, s.e, false});
            have = false;
          } else {
            if (have) out(pending);
            have = s.match;
            if (s.match)
              pending = s;
            else
              out(s);
          }
          break;
        case SplitBehavior::kContiguous:
          if (have && s.match && pending.match) {
            pending.e = s.e;
          } else {
            if (have) out(pending);
            pending = s;
            have = true;
          }
          break;
      }
      prev_match = s.match;
    };
    size_t pos = 0, from = 0, s, e;
    while (from <= piece.size() && pattern_->find(piece, from, s, e)) {
      if (e == s) {
        if (s >= piece.size()) break;
        from = s + utf8_length(static_cast<unsigned char>(piece[s]));
        continue;
      }
      if (s > pos) take({pos, s, invert_});
      take({s, e, !invert_});
      pos = from = e;
    }
    if (pos < piece.size()) take({pos, piece.size(), invert_});
    if (have) out(pending);
  }

 private:
  std::unique_ptr<Pattern> pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelStep final : public PreTokenizer {
 public:
  ByteLevelStep(bool add_prefix_space, bool use_regex, bool map_bytes)
      : add_prefix_space_(add_prefix_space), map_bytes_(map_bytes) {
    if (use_regex)
      regex_ = std::make_unique<SplitStep>(compile_regex(kGpt2Regex, "ByteLevel"),
                                           SplitBehavior::kIsolated, false);
  }

  void split(std::string_view piece, bool first, PieceSink emit) const override {
    std::string prefixed;
    if (add_prefix_space_ && (piece.empty() || piece[0] != ' ')) {
      prefixed = " ";
      prefixed.append(piece);
      piece = prefixed;
    }
    auto mapped = [&](std::string_view p, bool f) {
      if (!map_bytes_) return emit(p, f);
      std::string m = to_byte_level(p);
      emit(m, f);
    };
    if (regex_)
      regex_->split(piece, first, mapped);
    else
      mapped(piece, first);
  }

 private:
  bool add_prefix_space_, map_bytes_;
  std::unique_ptr<SplitStep> regex_;
};

class MetaspaceStep final : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  MetaspaceStep(std::string replacement, Prepend prepend, bool split)
      : replacement_(std::move(replacement)), prepend_(prepend) {
    if (split)
      split_ = std::make_unique<SplitStep>(literal_pattern(replacement_),
                                           SplitBehavior::kMergedWithNext, false);
  }

  void split(std::string_view piece, bool first, PieceSink emit) const override {
    std::string s = replace_all(piece, " ", replacement_);
    bool add = prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && first);
    if (add && s.compare(0, replacement_.size(), replacement_) != 0) s.insert(0, replacement_);
    if (split_)
      split_->split(s, first, emit);
    else
      emit(s, first);
  }

 private:
  std::string replacement_;
  Prepend prepend_;
  std::unique_ptr<SplitStep> split_;
};

class SequenceStep final : public PreTokenizer {
 public:
  explicit SequenceStep(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void split(std::string_view piece, bool first, PieceSink emit) const override {
    run(0, piece, first, emit);
  }

 private:
  void run(size_t k, std::string_view piece, bool first, PieceSink emit) const {
    if (k == steps_.size()) return emit(piece, first);
    steps_[k]->split(piece, first, [&](std::string_view sub, bool f) { run(k + 1, sub, f, emit); });
  }
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

SplitBehavior parse_behavior(const nlohmann::json& j, std::string_view where) {
  std::string b = json_string(j, "behavior", where, "Isolated");
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  KILN_REQUIRE(false, where, ".behavior: \"", b,
               "\" is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, "
               "Contiguous");
  return SplitBehavior::kIsolated;
}

std::unique_ptr<PreTokenizer> make_step(const nlohmann::json& j, bool bytes_model, bool last) {
  const std::string where = "tokenizer.json pre_tokenizer";
  std::string type = json_string(j, "type", where);
  if (type == "Sequence") {
    const auto& list = json_field(j, "pretokenizers", where);
    KILN_REQUIRE(list.is_array(), where, ".pretokenizers: expected an array, found ",
                 list.type_name());
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < list.size(); ++i)
      steps.push_back(make_step(list[i], bytes_model, last && i + 1 == list.size()));
    return std::make_unique<SequenceStep>(std::move(steps));
  }
  if (type == "Split") {
    std::string pat;
    bool regex = json_pattern(json_field(j, "pattern", where + " Split"), where, pat);
    auto p = regex ? compile_regex(pat, where + " Split") : literal_pattern(pat);
    return std::make_unique<SplitStep>(std::move(p), parse_behavior(j, where),
                                       json_bool(j, "invert", where, false));
  }
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelStep>(json_bool(j, "add_prefix_space", where, true),
                                           json_bool(j, "use_regex", where, true),
                                           !(bytes_model && last));
  if (type == "Metaspace") {
    std::string rep = json_string(j, "replacement", where, "\xE2\x96\x81");
    KILN_REQUIRE(!rep.empty(), where, ".replacement: empty");
    auto prepend = json_bool(j, "add_prefix_space", where, true) ? MetaspaceStep::Prepend::kAlways
                                                                 : MetaspaceStep::Prepend::kNever;
    if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null()) {
      std::string s = json_string(j, "prepend_scheme", where);
      KILN_REQUIRE(s == "always" || s == "first" || s == "never", where, ".prepend_scheme: \"", s,
                   "\" is not always, first or never");
      prepend = s == "always"  ? MetaspaceStep::Prepend::kAlways
                : s == "first" ? MetaspaceStep::Prepend::kFirst
                               : MetaspaceStep::Prepend::kNever;
    }
    return std::make_unique<MetaspaceStep>(rep, prepend, json_bool(j, "split", where, true));
  }
  if (type == "Digits") return make_digits(json_bool(j, "individual_digits", where, false));
  if (type == "Punctuation") return make_punctuation(parse_behavior(j, where));
  if (type == "Whitespace")
    return std::make_unique<SplitStep>(compile_pcre2(R"(\w+|[^\w\s]+)", where),
                                       SplitBehavior::kRemoved, true);
  if (type == "WhitespaceSplit")
    return std::make_unique<SplitStep>(char_pattern(is_white_space, true), SplitBehavior::kRemoved,
                                       false);
  KILN_REQUIRE(false, where, ": type \"", type,
               "\" is not supported; kiln implements Split, ByteLevel, Metaspace, Digits, "
               "Punctuation, Whitespace, WhitespaceSplit and Sequence");
  return nullptr;
}

}  // namespace

bool ends_with_byte_level(const nlohmann::json& j) {
  if (!j.is_object()) return false;
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return false;
  if (*type == "ByteLevel") return true;
  if (*type != "Sequence") return false;
  auto list = j.find("pretokenizers");
  return list != j.end() && list->is_array() && !list->empty() &&
         ends_with_byte_level(list->back());
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, bool bytes_model) {
  if (j.is_null()) return nullptr;
  return make_step(j, bytes_model, true);
}

std::unique_ptr<PreTokenizer> make_regex_split(std::string_view regex, SplitBehavior b,
                                               bool invert) {
  return std::make_unique<SplitStep>(compile_regex(regex, "pre-tokenizer"), b, invert);
}

std::unique_ptr<PreTokenizer> make_digits(bool individual) {
  auto numeric = [](char32_t c) { return char_class(c) == CharClass::kNumber; };
  return std::make_unique<SplitStep>(char_pattern(numeric, !individual), SplitBehavior::kIsolated,
                                     false);
}

std::unique_ptr<PreTokenizer> make_punctuation(SplitBehavior b) {
  return std::make_unique<SplitStep>(char_pattern(is_punctuation, false), b, false);
}

std::unique_ptr<PreTokenizer> make_sequence(std::unique_ptr<PreTokenizer> a,
                                            std::unique_ptr<PreTokenizer> b) {
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  steps.push_back(std::move(a));
  steps.push_back(std::move(b));
  return std::make_unique<SequenceStep>(std::move(steps));
}

}  // namespace kiln::tokenizer
