#include "kiln/tokenizer/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "kiln/core/error.h"
#include "kiln/io/gguf.h"
#include "kiln/tokenizer/tokenizer_data.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

namespace detail {

void TokenizerData::set_token(int32_t id, const std::string& text, TokenKind kind) {
  KILN_REQUIRE(id >= 0 && id < (1 << 30), name, ": token id ", id, " for '", text,
               "' is out of range (expected 0 to 2^30)");
  if (size_t(id) >= tokens.size()) {
    tokens.resize(size_t(id) + 1);
    kinds.resize(size_t(id) + 1, TokenKind::kNone);
    skip_on_decode.resize(size_t(id) + 1, false);
  }
  tokens[size_t(id)] = text;
  kinds[size_t(id)] = kind;
  skip_on_decode[size_t(id)] = kind == TokenKind::kSpecial;
  if (kind != TokenKind::kModel) added_ids[text] = id;
}

std::optional<int32_t> TokenizerData::find(std::string_view text) const {
  auto it = added_ids.find(text);
  if (it != added_ids.end()) return it->second;
  auto m = model.vocab.find(text);
  if (m != model.vocab.end()) return m->second;
  return std::nullopt;
}

}  // namespace detail

namespace {

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  KILN_REQUIRE(f, "tokenizer: cannot open '", path, "'");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  KILN_REQUIRE(!f.bad(), "tokenizer: error reading '", path, "'");
  return text;
}

void encode_pieces(const detail::TokenizerData& d, std::string_view text, bool first,
                   std::vector<int32_t>& out) {
  if (text.empty()) return;
  if (!d.pre_tokenizer) return d.model.encode(text, out);
  d.pre_tokenizer->split(text, first,
                         [&](std::string_view piece, bool) { d.model.encode(piece, out); });
}

void encode_section(const detail::TokenizerData& d, std::string_view section, bool first,
                    bool parse_special, std::vector<int32_t>& out) {
  if (section.empty()) return;
  std::string normalized;
  if (d.normalizer && d.normalizer->apply(section, normalized)) section = normalized;
  if (d.added_normalized.empty()) return encode_pieces(d, section, first, out);
  std::vector<Segment> segs;
  d.added_normalized.split(section, parse_special, segs);
  for (const Segment& s : segs) {
    if (s.token >= 0)
      out.push_back(s.token);
    else
      encode_pieces(d, section.substr(s.begin, s.end - s.begin), first && s.begin == 0, out);
  }
}

// Hugging Face's clean_up_tokenization: spaces before punctuation and English contractions.
constexpr std::pair<std::string_view, std::string_view> kCleanUp[] = {
    {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
    {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};

std::string clean_up(std::string s) {
  for (const auto& [from, to] : kCleanUp)
    if (s.find(from) != std::string::npos) s = replace_all(s, from, to);
  return s;
}

// How many bytes at the end of s to hold back so that clean-up sees every pattern whole: each
// starts with a space and has at most three bytes after it, so a cut with no space in the
// three bytes before it, and at least three bytes before the end, splits no occurrence.
size_t clean_up_hold(std::string_view s) {
  for (size_t c = s.size() >= 3 ? s.size() - 3 : 0; c > 0; --c) {
    size_t from = c >= 3 ? c - 3 : 0;
    if (s.substr(from, c - from).find(' ') == std::string_view::npos) return s.size() - c;
  }
  return s.size();
}

}  // namespace

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special) const {
  EncodeOptions o;
  o.add_special = add_special;
  return encode(text, o);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& o) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_into(text, o, out);
  return out;
}

void Tokenizer::encode_into(std::string_view text, const EncodeOptions& o,
                            std::vector<int32_t>& out) const {
  const detail::TokenizerData& d = *d_;
  require_utf8(text, d.name + ": text to encode");
  if (o.add_special) out.insert(out.end(), d.prefix.begin(), d.prefix.end());
  if (d.added.empty()) {
    encode_section(d, text, true, o.parse_special, out);
  } else {
    std::vector<Segment> segs;
    d.added.split(text, o.parse_special, segs);
    for (const Segment& s : segs) {
      if (s.token >= 0)
        out.push_back(s.token);
      else
        encode_section(d, text.substr(s.begin, s.end - s.begin), s.begin == 0, o.parse_special,
                       out);
    }
  }
  if (o.add_special) out.insert(out.end(), d.suffix.begin(), d.suffix.end());
}

std::string Tokenizer::decode_bytes(std::span<const int32_t> ids, bool skip_special) const {
  const detail::TokenizerData& d = *d_;
  DecodeTokens t;
  t.text.reserve(ids.size());
  t.added.reserve(ids.size());
  for (int32_t id : ids) {
    KILN_REQUIRE(
        id >= 0 && size_t(id) < d.tokens.size() && d.kinds[size_t(id)] != detail::TokenKind::kNone,
        d.name, ": unknown token id ", id, " (the vocabulary has ids 0 to ", d.tokens.size() - 1,
        ")");
    if (skip_special && d.skip_on_decode[size_t(id)]) continue;
    t.text.push_back(d.tokens[size_t(id)]);
    t.added.push_back(d.kinds[size_t(id)] != detail::TokenKind::kModel);
  }
  std::string out;
  if (d.decoder) {
    d.decoder->apply(t);
    for (const auto& s : t.text) out += s;
  } else {
    for (size_t i = 0; i < t.text.size(); ++i) {
      if (i) out += ' ';
      out += t.text[i];
    }
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string raw = decode_bytes(ids, skip_special);
  if (d_->clean_up_spaces) raw = clean_up(std::move(raw));
  return to_valid_utf8(raw);
}

int32_t Tokenizer::vocab_size() const {
  return int32_t(d_->tokens.size());
}
std::optional<int32_t> Tokenizer::bos_id() const {
  return d_->bos;
}
std::optional<int32_t> Tokenizer::eos_id() const {
  return d_->eos;
}
std::optional<int32_t> Tokenizer::pad_id() const {
  return d_->pad;
}
std::optional<int32_t> Tokenizer::unk_id() const {
  return d_->unk;
}
bool Tokenizer::add_bos() const {
  return d_->bos && !d_->prefix.empty() && d_->prefix[0] == *d_->bos;
}
bool Tokenizer::add_eos() const {
  return d_->eos && !d_->suffix.empty() && d_->suffix.back() == *d_->eos;
}
std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  return d_->find(token);
}

const std::string& Tokenizer::id_to_token(int32_t id) const {
  KILN_REQUIRE(id >= 0 && size_t(id) < d_->tokens.size() &&
                   d_->kinds[size_t(id)] != detail::TokenKind::kNone,
               d_->name, ": unknown token id ", id, " (the vocabulary has ids 0 to ",
               d_->tokens.size() - 1, ")");
  return d_->tokens[size_t(id)];
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && size_t(id) < d_->tokens.size() && d_->skip_on_decode[size_t(id)];
}

const SpecialTokens& Tokenizer::special_tokens() const {
  return d_->special;
}
const std::string& Tokenizer::chat_template() const {
  return d_->chat_template;
}
const std::string& Tokenizer::name() const {
  return d_->name;
}

StreamDecoder::StreamDecoder(Tokenizer tokenizer, bool skip_special)
    : tok_(std::move(tokenizer)), skip_special_(skip_special) {}

std::string StreamDecoder::push(int32_t id) {
  ids_.push_back(id);
  std::span<const int32_t> all(ids_);
  std::string before = tok_.decode_bytes(all.subspan(prefix_, read_ - prefix_), skip_special_);
  std::string now = tok_.decode_bytes(all.subspan(prefix_), skip_special_);
  if (incomplete_utf8_tail(now) > 0) return "";
  std::string fresh;
  if (now.size() > before.size() && now.compare(0, before.size(), before) == 0)
    fresh = now.substr(before.size());
  // The window must start at a token that shows in the text: decoders that strip the first
  // token's leading space (SentencePiece's Strip, Metaspace) then strip the same one in
  // `before` and `now`. Skipped special tokens alone do not move it.
  for (size_t i = read_; i < ids_.size(); ++i) {
    if (!(skip_special_ && tok_.is_special(ids_[i]))) {
      prefix_ = read_;
      break;
    }
  }
  read_ = ids_.size();
  if (prefix_ > 64) {  // the ids before the window are never decoded again
    ids_.erase(ids_.begin(), ids_.begin() + std::ptrdiff_t(prefix_));
    read_ -= prefix_;
    prefix_ = 0;
  }
  return release(to_valid_utf8(fresh), false);
}

std::string StreamDecoder::finish() {
  std::span<const int32_t> all(ids_);
  std::string before = tok_.decode_bytes(all.subspan(prefix_, read_ - prefix_), skip_special_);
  std::string now = tok_.decode_bytes(all.subspan(prefix_), skip_special_);
  std::string fresh;
  if (now.size() > before.size() && now.compare(0, before.size(), before) == 0)
    fresh = now.substr(before.size());
  ids_.clear();
  prefix_ = read_ = 0;
  return release(to_valid_utf8(fresh), true);
}

std::string StreamDecoder::release(std::string text, bool final) {
  if (!tok_.d_->clean_up_spaces) return text;
  held_ += text;
  size_t hold = final ? 0 : clean_up_hold(held_);
  std::string out = clean_up(held_.substr(0, held_.size() - hold));
  held_.erase(0, held_.size() - hold);
  return out;
}

Tokenizer Tokenizer::load(const std::string& path) {
  namespace fs = std::filesystem;
  KILN_REQUIRE(fs::exists(path), "tokenizer: '", path, "' does not exist");
  fs::path file = path;
  if (fs::is_directory(file)) {
    file /= "tokenizer.json";
    KILN_REQUIRE(fs::exists(file), "tokenizer: folder '", path,
                 "' has no tokenizer.json (expected a Hugging Face tokenizer folder)");
  }
  if (file.extension() == ".gguf") return from_gguf(io::GGUFReader(file.string()));
  fs::path config = file.parent_path() / "tokenizer_config.json";
  return from_json(read_text_file(file.string()),
                   fs::exists(config) ? read_text_file(config.string()) : std::string(),
                   file.string());
}

}  // namespace kiln::tokenizer
