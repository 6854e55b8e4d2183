// Reading a Hugging Face tokenizer.json and tokenizer_config.json into a Tokenizer.
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "kiln/core/error.h"
#include "kiln/tokenizer/byte_level.h"
#include "kiln/tokenizer/json_fields.h"
#include "kiln/tokenizer/tokenizer_data.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

namespace {

using json = nlohmann::json;
using detail::TokenizerData;
using detail::TokenKind;

json parse_json(std::string_view text, const std::string& name) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    KILN_REQUIRE(false, name, ": not valid JSON: ", e.what());
  }
  return {};
}

// Builds the DOM of tokenizer.json except model.vocab and model.merges, which are streamed into
// flat vectors instead: they hold nearly all of a 10-30 MB file, and a DOM of them costs seconds
// to build and free. In the DOM both are left as empty containers.
class TokenizerJsonSax {
 public:
  TokenizerJsonSax(json& root, std::string name) : dom_(root), name_(std::move(name)) {}

  std::vector<std::pair<std::string, int64_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;

  bool null() { return mode_ == Mode::kDom ? dom_.null() : unexpected("null"); }
  bool boolean(bool v) { return mode_ == Mode::kDom ? dom_.boolean(v) : unexpected("a boolean"); }
  bool number_integer(int64_t v) { return mode_ == Mode::kVocab ? id(v) : dom_.number_integer(v); }
  bool number_unsigned(uint64_t v) {
    if (mode_ != Mode::kVocab) return dom_.number_unsigned(v);
    return id(v > uint64_t(INT64_MAX) ? -1 : int64_t(v));
  }
  bool number_float(double v, const std::string& s) {
    return mode_ == Mode::kDom ? dom_.number_float(v, s) : unexpected("a fraction");
  }
  bool binary(json::binary_t& b) { return dom_.binary(b); }
  bool string(std::string& v) {
    switch (mode_) {
      case Mode::kDom:
        return dom_.string(v);
      case Mode::kMerges: {
        size_t sp = v.find(' ');
        KILN_REQUIRE(sp != std::string::npos && v.find(' ', sp + 1) == std::string::npos, name_,
                     ": model.merges[", merges.size(), "]: \"", v,
                     "\" is not two tokens separated by one space");
        merges.emplace_back(v.substr(0, sp), v.substr(sp + 1));
        return true;
      }
      case Mode::kMergePair:
        KILN_REQUIRE(pair_parts_ < 2, name_, ": model.merges[", merges.size() - 1,
                     "]: expected two strings");
        (pair_parts_++ == 0 ? merges.back().first : merges.back().second) = std::move(v);
        return true;
      case Mode::kVocab:
        return unexpected("a string");
    }
    return false;
  }
  bool start_object(size_t n) {
    if (mode_ != Mode::kDom) return unexpected("an object");
    bool vocab_here = depth_ == 2 && keys_[1] == "model" && keys_[2] == "vocab";
    ++depth_;
    if (vocab_here) mode_ = Mode::kVocab;
    return dom_.start_object(vocab_here ? 0 : n);
  }
  bool key(std::string& k) {
    if (mode_ == Mode::kVocab) {
      key_ = std::move(k);
      return true;
    }
    if (depth_ < 3) keys_[size_t(depth_)] = k;
    return dom_.key(k);
  }
  bool end_object() {
    if (mode_ == Mode::kVocab) mode_ = Mode::kDom;
    --depth_;
    return dom_.end_object();
  }
  bool start_array(size_t n) {
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_parts_ = 0;
      merges.emplace_back();
      return true;
    }
    if (mode_ != Mode::kDom) return unexpected("an array");
    bool merges_here = depth_ == 2 && keys_[1] == "model" && keys_[2] == "merges";
    ++depth_;
    if (merges_here) mode_ = Mode::kMerges;
    return dom_.start_array(merges_here ? 0 : n);
  }
  bool end_array() {
    if (mode_ == Mode::kMergePair) {
      KILN_REQUIRE(pair_parts_ == 2, name_, ": model.merges[", merges.size() - 1,
                   "]: expected two strings");
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) mode_ = Mode::kDom;
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(size_t pos, const std::string&, const nlohmann::detail::exception& e) {
    KILN_REQUIRE(false, name_, ": not valid JSON at byte ", pos, ": ", e.what());
    return false;
  }

 private:
  enum class Mode { kDom, kVocab, kMerges, kMergePair };
  bool id(int64_t v) {
    KILN_REQUIRE(v >= 0 && v < (1 << 30), name_, ": model.vocab[\"", key_, "\"]: id ", v,
                 " out of range");
    vocab.emplace_back(std::move(key_), v);
    return true;
  }
  bool unexpected(const char* what) {
    KILN_REQUIRE(false, name_,
                 mode_ == Mode::kVocab ? ": model.vocab: expected integer ids, found "
                                       : ": model.merges: expected strings, found ",
                 what);
    return false;
  }
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::string name_, key_;
  std::string keys_[3];
  int depth_ = 0, pair_parts_ = 0;
  Mode mode_ = Mode::kDom;
};

void read_merges(TokenizerData& d, const std::vector<std::pair<std::string, std::string>>& merges,
                 const std::string& where) {
  d.model.merges.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    joined.assign(a).append(b);
    auto ia = d.model.vocab.find(a), ib = d.model.vocab.find(b), im = d.model.vocab.find(joined);
    KILN_REQUIRE(ia != d.model.vocab.end() && ib != d.model.vocab.end(), where, "[", rank, "]: '",
                 ia == d.model.vocab.end() ? a : b, "' is not in the vocabulary");
    KILN_REQUIRE(im != d.model.vocab.end(), where, "[", rank, "]: the merged token '", joined,
                 "' is not in the vocabulary");
    d.model.merges.insert(ia->second, ib->second, {uint32_t(rank), im->second});
  }
}

void read_model(TokenizerData& d, const json& m, TokenizerJsonSax& big, bool bytes_model) {
  const std::string where = d.name + ": model";
  require_object(m, where);
  std::string type = json_string(m, "type", where, "BPE");
  KILN_REQUIRE(type == "BPE", where, ".type: \"", type,
               "\" is not supported; kiln implements BPE models (WordPiece and Unigram are not)");
  KILN_REQUIRE(json_string(m, "continuing_subword_prefix", where).empty() &&
                   json_string(m, "end_of_word_suffix", where).empty(),
               where, ": continuing_subword_prefix / end_of_word_suffix are not supported");
  if (m.contains("dropout") && !m["dropout"].is_null()) {
    KILN_REQUIRE(m["dropout"].is_number() && m["dropout"].get<double>() == 0.0, where,
                 ".dropout: BPE dropout is a training-time option; expected null");
  }
  KILN_REQUIRE(json_field(m, "vocab", where).is_object(), where,
               ".vocab: expected an object of token: id");
  KILN_REQUIRE(json_field(m, "merges", where).is_array(), where, ".merges: expected an array");
  KILN_REQUIRE(!big.vocab.empty(), where, ".vocab: empty");
  int64_t max_id = 0;
  for (const auto& [text, id] : big.vocab) max_id = std::max(max_id, id);
  d.tokens.reserve(size_t(max_id) + 1);
  d.model.vocab.reserve(big.vocab.size());
  for (auto& [text, id] : big.vocab) {
    d.set_token(int32_t(id), text, TokenKind::kModel);
    d.model.vocab[std::move(text)] = int32_t(id);
  }
  read_merges(d, big.merges, where + ".merges");

  d.model.input = bytes_model ? BpeModel::Input::kBytes : BpeModel::Input::kChars;
  if (bytes_model) {
    for (int b = 0; b < 256; ++b) {
      auto it = d.model.vocab.find(to_byte_level(std::string(1, char(b))));
      if (it != d.model.vocab.end()) d.model.byte_token[size_t(b)] = it->second;
    }
  }
  d.model.byte_fallback = json_bool(m, "byte_fallback", where, false);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto it = d.model.vocab.find(std::string_view(name));
    if (it != d.model.vocab.end()) d.model.fallback[size_t(b)] = it->second;
  }
  d.model.fuse_unk = json_bool(m, "fuse_unk", where, false);
  d.model.ignore_merges = json_bool(m, "ignore_merges", where, false);
  std::string unk = json_string(m, "unk_token", where);
  if (!unk.empty()) {
    auto it = d.model.vocab.find(unk);
    if (it != d.model.vocab.end()) d.model.unk = it->second;
  }
  if (bytes_model && d.model.ignore_merges) {
    std::string raw;
    for (const auto& [text, id] : d.model.vocab)
      if (from_byte_level(text, raw)) d.model.raw_vocab[raw] = id;
  }
  d.model.finish();
}

void read_added_tokens(TokenizerData& d, const json& list) {
  const std::string where = d.name + ": added_tokens";
  if (list.is_null()) return;
  KILN_REQUIRE(list.is_array(), where, ": expected an array, found ", list.type_name());
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string w = where + "[" + std::to_string(i) + "]";
    AddedToken t;
    int64_t id = json_int(list[i], "id", w, -1);
    KILN_REQUIRE(id >= 0 && id < (1 << 30), w, ".id: expected an id from 0, found ", id);
    t.id = int32_t(id);
    json_field(list[i], "content", w);
    t.content = json_string(list[i], "content", w);
    KILN_REQUIRE(!t.content.empty(), w, ".content: expected a non-empty string");
    t.special = json_bool(list[i], "special", w, false);
    t.lstrip = json_bool(list[i], "lstrip", w, false);
    t.rstrip = json_bool(list[i], "rstrip", w, false);
    t.single_word = json_bool(list[i], "single_word", w, false);
    t.normalized = json_bool(list[i], "normalized", w, !t.special);
    d.set_token(t.id, t.content, t.special ? TokenKind::kSpecial : TokenKind::kAdded);
    if (t.normalized && d.normalizer) {
      std::string n;
      if (d.normalizer->apply(t.content, n)) t.content = n;
      d.added_normalized.add(t);
    } else {
      d.added.add(t);
    }
  }
}

// The ids an item of a TemplateProcessing template stands for.
void template_ids(const json& item, const json& specials, const std::string& where,
                  std::vector<int32_t>& out) {
  const json& st = json_field(item, "SpecialToken", where);
  std::string name = json_string(st, "id", where);
  const json& spec = json_field(specials, name, where + ".special_tokens");
  const json& ids = json_field(spec, "ids", where + ".special_tokens." + name);
  KILN_REQUIRE(ids.is_array(), where, ".special_tokens.", name, ".ids: expected an array");
  for (const json& v : ids) {
    KILN_REQUIRE(v.is_number_integer(), where, ".special_tokens.", name,
                 ".ids: expected integers, found ", json_brief(v));
    out.push_back(int32_t(v.get<int64_t>()));
  }
}

void read_post_processor(TokenizerData& d, const json& p) {
  const std::string where = d.name + ": post_processor";
  if (p.is_null()) return;
  std::string type = json_string(p, "type", where);
  if (type == "ByteLevel") return;
  if (type == "Sequence") {
    const json& list = json_field(p, "processors", where);
    KILN_REQUIRE(list.is_array(), where, ".processors: expected an array");
    for (const json& q : list) read_post_processor(d, q);
    return;
  }
  if (type == "TemplateProcessing") {
    const json& single = json_field(p, "single", where);
    const json& specials = json_field(p, "special_tokens", where);
    KILN_REQUIRE(single.is_array(), where, ".single: expected an array");
    bool after = false;
    for (const json& item : single) {
      require_object(item, where + ".single");
      if (item.contains("Sequence")) {
        after = true;
        continue;
      }
      template_ids(item, specials, where + ".single", after ? d.suffix : d.prefix);
    }
    return;
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    for (const char* key : {"cls", "sep"}) {
      const json& v = json_field(p, key, where);
      KILN_REQUIRE(v.is_array() && v.size() == 2 && v[1].is_number_integer(), where, ".", key,
                   ": expected [token, id]");
      (key[0] == 'c' ? d.prefix : d.suffix).push_back(int32_t(v[1].get<int64_t>()));
    }
    return;
  }
  KILN_REQUIRE(false, where, ": type \"", type,
               "\" is not supported; kiln implements TemplateProcessing, ByteLevel, "
               "RobertaProcessing, BertProcessing and Sequence");
}

// A special token in tokenizer_config.json: a string, or an AddedToken object with "content".
std::string config_token(const json& c, const char* key, const std::string& where) {
  if (!c.contains(key) || c[key].is_null()) return "";
  const json& v = c[key];
  if (v.is_string()) return v.get<std::string>();
  return json_string(v, "content", where + "." + key);
}

void template_fields(const json& c, const std::string& where, std::string& chat_template,
                     SpecialTokens& special) {
  require_object(c, where);
  special.bos = config_token(c, "bos_token", where);
  special.eos = config_token(c, "eos_token", where);
  special.unk = config_token(c, "unk_token", where);
  special.pad = config_token(c, "pad_token", where);
  if (!c.contains("chat_template")) return;
  const json& t = c["chat_template"];
  if (t.is_string()) {
    chat_template = t.get<std::string>();
  } else if (t.is_array()) {
    for (const json& named : t)
      if (json_string(named, "name", where + ".chat_template") == "default")
        chat_template = json_string(named, "template", where + ".chat_template");
  } else {
    KILN_REQUIRE(t.is_null(), where,
                 ".chat_template: expected a string or a list of "
                 "{name, template}, found ",
                 t.type_name());
  }
}

void read_config(TokenizerData& d, const json& c, const std::string& where) {
  template_fields(c, where, d.chat_template, d.special);
  d.clean_up_spaces = json_bool(c, "clean_up_tokenization_spaces", where, false);
  if (c.contains("additional_special_tokens") && c["additional_special_tokens"].is_array()) {
    for (const json& t : c["additional_special_tokens"]) {
      std::string s = t.is_string() ? t.get<std::string>() : json_string(t, "content", where);
      if (auto id = d.find(s)) d.skip_on_decode[size_t(*id)] = true;
    }
  }
  bool has_bos_flag = c.contains("add_bos_token") && c["add_bos_token"].is_boolean();
  bool has_eos_flag = c.contains("add_eos_token") && c["add_eos_token"].is_boolean();
  d.bos = d.special.bos.empty() ? std::nullopt : d.find(d.special.bos);
  d.eos = d.special.eos.empty() ? std::nullopt : d.find(d.special.eos);
  d.pad = d.special.pad.empty() ? std::nullopt : d.find(d.special.pad);
  if (!d.special.unk.empty()) d.unk = d.find(d.special.unk);
  // As transformers' Llama and Gemma tokenizers do, explicit add_bos_token / add_eos_token
  // flags decide what add_special adds, over the file's post-processor.
  if (has_bos_flag || has_eos_flag) {
    d.prefix.clear();
    d.suffix.clear();
    if (json_bool(c, "add_bos_token", where, false)) {
      KILN_REQUIRE(d.bos, where, ": add_bos_token is true but bos_token '", d.special.bos,
                   "' is not a token");
      d.prefix.push_back(*d.bos);
    }
    if (json_bool(c, "add_eos_token", where, false)) {
      KILN_REQUIRE(d.eos, where, ": add_eos_token is true but eos_token '", d.special.eos,
                   "' is not a token");
      d.suffix.push_back(*d.eos);
    }
  }
}

}  // namespace

void detail::read_template_config(std::string_view config_json, const std::string& where,
                                  std::string& chat_template, SpecialTokens& special) {
  template_fields(parse_json(config_json, where), where, chat_template, special);
}

Tokenizer Tokenizer::from_json(std::string_view tokenizer_json, std::string_view config_json,
                               const std::string& name) {
  auto d = std::make_shared<TokenizerData>();
  d->name = name;
  json root;
  TokenizerJsonSax big(root, name);
  json::sax_parse(tokenizer_json.begin(), tokenizer_json.end(), &big);
  require_object(root, name);
  json none;
  auto field = [&](const char* key) -> const json& {
    auto it = root.find(key);
    return it == root.end() ? none : *it;
  };
  bool bytes_model = ends_with_byte_level(field("pre_tokenizer"));
  try {
    d->normalizer = make_normalizer(field("normalizer"));
    d->pre_tokenizer = make_pre_tokenizer(field("pre_tokenizer"), bytes_model);
    d->decoder = make_decoder(field("decoder"));
  } catch (const Error& e) {
    KILN_REQUIRE(false, name, ": ", e.what());
  }
  read_model(*d, json_field(root, "model", name), big, bytes_model);
  read_added_tokens(*d, field("added_tokens"));
  read_post_processor(*d, field("post_processor"));
  if (d->model.unk >= 0) d->unk = d->model.unk;
  if (!config_json.empty()) {
    std::string cname = name + " (tokenizer_config.json)";
    read_config(*d, parse_json(config_json, cname), cname);
  }
  return Tokenizer(std::move(d));
}

}  // namespace kiln::tokenizer
