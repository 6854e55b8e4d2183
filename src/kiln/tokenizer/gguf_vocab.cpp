// Reading the tokenizer.ggml.* keys of a GGUF file (llama.cpp's layout) into a Tokenizer.
//
// "gpt2" vocabularies are byte-level BPE with merges; their pre-tokenizer is only named
// (tokenizer.ggml.pre), so kiln maps the names it knows to the regexes of the models they come
// from. "llama" vocabularies are SentencePiece BPE: scores instead of merges. Merging the pair
// whose joined piece has the highest score is the same as BPE with merges ranked by that score,
// so the merge table is built from the vocabulary: every split of a piece into two pieces.
#include <algorithm>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "kiln/core/error.h"
#include "kiln/io/gguf.h"
#include "kiln/tokenizer/byte_level.h"
#include "kiln/tokenizer/pattern.h"
#include "kiln/tokenizer/pretokenizer.h"
#include "kiln/tokenizer/tokenizer_data.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

namespace {

using detail::TokenizerData;
using detail::TokenKind;

// llama.cpp's token types.
enum GgufTokenType : int64_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6
};

using json = nlohmann::json;

json split(std::string_view regex) {
  return {{"type", "Split"},
          {"pattern", {{"Regex", regex}}},
          {"behavior", "Isolated"},
          {"invert", false}};
}
json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", use_regex}};
}
json digits(bool individual) {
  return {{"type", "Digits"}, {"individual_digits", individual}};
}
json sequence(std::initializer_list<json> steps) {
  json list = json::array();
  for (const json& s : steps) list.push_back(s);
  return {{"type", "Sequence"}, {"pretokenizers", list}};
}

// DeepSeek LLM's letter class: the cased letters of several scripts, as its tokenizer.json
// lists them (the Greek and letterlike singletons are not the NFC forms).
constexpr const char* kDeepSeekLetters =
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293})"
    R"(\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A})"
    R"(\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556})"
    R"(\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF})"
    R"(\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D})"
    R"(\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D})"
    R"(\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4})"
    R"(\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4})"
    R"(\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124})"
    R"(\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F})"
    R"(\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})"
    R"(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F})"
    R"(\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17})"
    R"(\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3})"
    R"(\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF})"
    R"(\x{1E900}-\x{1E943}]+)";
constexpr const char* kDeepSeekPunct =
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";
constexpr const char* kDeepSeekCjk = R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";

// The pre-tokenizer (as tokenizer.json would describe it) that a "gpt2" vocabulary's
// tokenizer.ggml.pre names: the names llama.cpp gives, mapped to the models' own definitions.
json gguf_pre_tokenizer(const std::string& pre, bool& ignore_merges, const std::string& where) {
  ignore_merges = pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3";
  for (const char* name : {"default", "gpt-2", "gpt2", "mpt", "olmo", "jais", "gpt-neox"})
    if (pre == name) return byte_level(true);
  for (const char* name : {"llama-bpe", "llama3", "llama-v3", "smaug-bpe", "dbrx"})
    if (pre == name) return sequence({split(kLlama3Regex), byte_level(false)});
  if (pre == "qwen2" || pre == "deepseek-r1-qwen")
    return sequence({split(kQwen2Regex), byte_level(false)});
  if (pre == "starcoder" || pre == "refact") return sequence({digits(true), byte_level(true)});
  if (pre == "falcon")
    return sequence({{{"type", "Punctuation"}, {"behavior", "Contiguous"}},
                     byte_level(true),
                     digits(false),
                     split("[0-9][0-9][0-9]")});
  if (pre == "deepseek-llm")
    return sequence({split("[\r\n]"), split(kDeepSeekLetters), split(kDeepSeekPunct),
                     split(R"(\s+$)"), split(kDeepSeekCjk), digits(true), byte_level(false)});
  if (pre == "deepseek-coder")
    return sequence({split("[\r\n]"), split(R"(\s?\p{L}+)"), split(R"(\s?\p{P}+)"),
                     split(kDeepSeekCjk), digits(true), byte_level(false)});
  KILN_REQUIRE(false, where, ": tokenizer.ggml.pre \"", pre,
               "\" is not supported; kiln knows default, gpt-2, mpt, olmo, jais, gpt-neox, "
               "llama-bpe, llama3, smaug-bpe, dbrx, qwen2, deepseek-r1-qwen, starcoder, refact, "
               "falcon, deepseek-llm, deepseek-coder");
  return {};
}

void read_bpe(TokenizerData& d, const io::GGUFReader& g, const std::string& where) {
  const io::GGUFValue* pre = g.find("tokenizer.ggml.pre");
  json desc = gguf_pre_tokenizer(pre ? pre->as_string() : "default", d.model.ignore_merges, where);
  bool bytes_model = ends_with_byte_level(desc);
  d.model.input = bytes_model ? BpeModel::Input::kBytes : BpeModel::Input::kChars;
  d.pre_tokenizer = make_pre_tokenizer(desc, bytes_model);
  for (int b = 0; b < 256 && bytes_model; ++b) {
    auto it = d.model.vocab.find(to_byte_level(std::string(1, char(b))));
    if (it != d.model.vocab.end()) d.model.byte_token[size_t(b)] = it->second;
  }
  const auto& merges = g.get("tokenizer.ggml.merges").as_strings();
  d.model.merges.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    size_t sp = m.find(' ');
    KILN_REQUIRE(sp != std::string::npos, where, ": tokenizer.ggml.merges[", rank, "] \"", m,
                 "\" is not two tokens separated by a space");
    std::string a = m.substr(0, sp), b = m.substr(sp + 1);
    auto ia = d.model.vocab.find(a), ib = d.model.vocab.find(b), im = d.model.vocab.find(a + b);
    KILN_REQUIRE(
        ia != d.model.vocab.end() && ib != d.model.vocab.end() && im != d.model.vocab.end(), where,
        ": tokenizer.ggml.merges[", rank, "] \"", m,
        "\" names a token that is not in the vocabulary");
    d.model.merges.insert(ia->second, ib->second, {uint32_t(rank), im->second});
  }
  if (d.model.ignore_merges) {
    std::string raw;
    for (const auto& [text, id] : d.model.vocab)
      if (from_byte_level(text, raw)) d.model.raw_vocab[raw] = id;
  }
  d.decoder = make_byte_level_decoder();
}

void read_spm(TokenizerData& d, const io::GGUFReader& g, const std::vector<int64_t>& types,
              const std::string& where) {
  d.model.input = BpeModel::Input::kChars;
  d.model.byte_fallback = true;
  std::vector<float> scores = g.get("tokenizer.ggml.scores").as_floats();
  KILN_REQUIRE(scores.size() == d.tokens.size(), where, ": tokenizer.ggml.scores has ",
               scores.size(), " entries for ", d.tokens.size(), " tokens");
  // Dense ranks by score, highest first: equal scores share a rank, so ties merge leftmost.
  std::vector<float> distinct(scores);
  std::sort(distinct.begin(), distinct.end(), std::greater<float>());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  auto rank_of = [&](float s) {
    return uint32_t(std::lower_bound(distinct.begin(), distinct.end(), s, std::greater<float>()) -
                    distinct.begin());
  };
  for (size_t id = 0; id < d.tokens.size(); ++id) {
    if (types[id] != kNormal && types[id] != kUserDefined) continue;
    const std::string& t = d.tokens[id];
    if (find_invalid_utf8(t) != kValidUtf8) continue;
    for (size_t k = utf8_length(static_cast<unsigned char>(t[0])); k < t.size();
         k += utf8_length(static_cast<unsigned char>(t[k]))) {
      auto a = d.model.vocab.find(std::string_view(t).substr(0, k));
      auto b = d.model.vocab.find(std::string_view(t).substr(k));
      if (a != d.model.vocab.end() && b != d.model.vocab.end())
        d.model.merges.insert(a->second, b->second, {rank_of(scores[id]), int32_t(id)});
    }
  }
  bool prefix = true;
  if (const io::GGUFValue* v = g.find("tokenizer.ggml.add_space_prefix")) prefix = v->as_bool();
  json norm = {{"type", "Sequence"}, {"normalizers", json::array()}};
  if (prefix) norm["normalizers"].push_back({{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}});
  norm["normalizers"].push_back(
      {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}});
  d.normalizer = make_normalizer(norm);
  d.decoder = make_spm_decoder(prefix ? 1 : 0);
}

std::optional<int32_t> gguf_id(const io::GGUFReader& g, const char* key, size_t n,
                               const std::string& where) {
  const io::GGUFValue* v = g.find(key);
  if (!v) return std::nullopt;
  int64_t id = v->as_int();
  KILN_REQUIRE(id >= 0 && size_t(id) < n, where, ": ", key, " is ", id, "; expected an id below ",
               n);
  return int32_t(id);
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const io::GGUFReader& g) {
  auto d = std::make_shared<TokenizerData>();
  d->name = g.path();
  const std::string& where = d->name;
  std::string model = g.get("tokenizer.ggml.model").as_string();
  KILN_REQUIRE(model == "gpt2" || model == "llama", where, ": tokenizer.ggml.model \"", model,
               "\" is not supported; kiln reads \"gpt2\" (byte-level BPE) and \"llama\" "
               "(SentencePiece BPE)");
  const auto& tokens = g.get("tokenizer.ggml.tokens").as_strings();
  KILN_REQUIRE(!tokens.empty() && tokens.size() < (1u << 30), where, ": tokenizer.ggml.tokens has ",
               tokens.size(), " entries");
  std::vector<int64_t> types(tokens.size(), kNormal);
  if (const io::GGUFValue* t = g.find("tokenizer.ggml.token_type")) {
    types = t->as_ints();
    KILN_REQUIRE(types.size() == tokens.size(), where, ": tokenizer.ggml.token_type has ",
                 types.size(), " entries for ", tokens.size(), " tokens");
  }
  for (size_t id = 0; id < tokens.size(); ++id) {
    KILN_REQUIRE(find_invalid_utf8(tokens[id]) == kValidUtf8, where, ": token ", id,
                 " is not valid UTF-8");
    bool added = types[id] == kControl || types[id] == kUserDefined;
    TokenKind kind = types[id] == kControl       ? TokenKind::kSpecial
                     : types[id] == kUserDefined ? TokenKind::kAdded
                                                 : TokenKind::kModel;
    d->set_token(int32_t(id), tokens[id], kind);
    if (!added || model == "llama") d->model.vocab[tokens[id]] = int32_t(id);
    if (added && !tokens[id].empty()) {
      AddedToken a;
      a.id = int32_t(id);
      a.content = tokens[id];
      a.special = types[id] == kControl;
      d->added.add(a);
    }
    if (types[id] == kByte) {
      unsigned v = 0;
      if (std::sscanf(tokens[id].c_str(), "<0x%2X>", &v) == 1 && v < 256)
        d->model.fallback[v] = int32_t(id);
    }
  }
  if (model == "gpt2")
    read_bpe(*d, g, where);
  else
    read_spm(*d, g, types, where);
  d->model.finish();

  size_t n = tokens.size();
  d->bos = gguf_id(g, "tokenizer.ggml.bos_token_id", n, where);
  d->eos = gguf_id(g, "tokenizer.ggml.eos_token_id", n, where);
  d->pad = gguf_id(g, "tokenizer.ggml.padding_token_id", n, where);
  d->unk = gguf_id(g, "tokenizer.ggml.unknown_token_id", n, where);
  if (d->unk) d->model.unk = *d->unk;
  if (d->bos) d->special.bos = tokens[size_t(*d->bos)];
  if (d->eos) d->special.eos = tokens[size_t(*d->eos)];
  if (d->pad) d->special.pad = tokens[size_t(*d->pad)];
  if (d->unk) d->special.unk = tokens[size_t(*d->unk)];
  bool add_bos = model == "llama", add_eos = false;
  if (const io::GGUFValue* v = g.find("tokenizer.ggml.add_bos_token")) add_bos = v->as_bool();
  if (const io::GGUFValue* v = g.find("tokenizer.ggml.add_eos_token")) add_eos = v->as_bool();
  if (add_bos && d->bos) d->prefix.push_back(*d->bos);
  if (add_eos && d->eos) d->suffix.push_back(*d->eos);
  if (const io::GGUFValue* v = g.find("tokenizer.chat_template")) d->chat_template = v->as_string();
  return Tokenizer(std::move(d));
}

}  // namespace kiln::tokenizer
