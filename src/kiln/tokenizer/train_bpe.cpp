#include "kiln/tokenizer/train_bpe.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <queue>

#include <nlohmann/json.hpp>

#include "kiln/core/error.h"
#include "kiln/core/progress.h"
#include "kiln/core/thread_pool.h"
#include "kiln/tokenizer/added_tokens.h"
#include "kiln/tokenizer/bpe.h"
#include "kiln/tokenizer/byte_level.h"
#include "kiln/tokenizer/pattern.h"
#include "kiln/tokenizer/unicode.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer {

namespace {

using WordCounts = std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>>;

uint64_t pair_key(int32_t a, int32_t b) {
  return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
}

std::string regex_of(const std::string& pattern) {
  if (pattern == "qwen2") return std::string(kQwen2Regex);
  if (pattern == "llama3") return std::string(kLlama3Regex);
  if (pattern == "gpt2") return std::string(kGpt2Regex);
  return pattern;
}

// Cuts text after newlines that are followed by a non-space character: no pre-tokenizer match
// crosses such a point, so chunks can be counted apart and in parallel.
std::vector<std::string_view> chunks(std::string_view text, size_t target) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (text.size() - start > target) {
    size_t at = text.find('\n', start + target);
    while (at != std::string_view::npos && at + 1 < text.size() &&
           (text[at + 1] == '\n' || text[at + 1] == '\r' || text[at + 1] == ' ' ||
            text[at + 1] == '\t'))
      at = text.find('\n', at + 1);
    if (at == std::string_view::npos || at + 1 >= text.size()) break;
    out.push_back(text.substr(start, at + 1 - start));
    start = at + 1;
  }
  out.push_back(text.substr(start));
  return out;
}

}  // namespace

struct BpeTrainer::State {
  BpeTrainOptions o;
  std::unique_ptr<Pattern> pattern;
  AddedTokenMatcher specials;
  std::mutex mu;
  WordCounts counts;
  std::vector<std::string> raw;  // id -> bytes, learned tokens only
  std::vector<std::pair<int32_t, int32_t>> merges;
  bool trained = false;

  void count(std::string_view text, WordCounts& local) const {
    std::vector<Segment> segs;
    specials.split(text, true, segs);
    std::string norm;
    for (const Segment& s : segs) {
      if (s.token >= 0 || s.end == s.begin) continue;
      std::string_view part = text.substr(s.begin, s.end - s.begin);
      if (normalize(part, NormalForm::kNFC, norm)) part = norm;
      size_t from = 0, b, e;
      while (from < part.size() && pattern->find(part, from, b, e)) {
        if (e == b) {
          from = b + utf8_length(static_cast<unsigned char>(part[b]));
          continue;
        }
        auto it = local.find(part.substr(b, e - b));
        if (it == local.end())
          local.emplace(std::string(part.substr(b, e - b)), 1);
        else
          ++it->second;
        from = e;
      }
    }
  }
};

BpeTrainer::BpeTrainer(BpeTrainOptions options) : s_(std::make_unique<State>()) {
  s_->o = std::move(options);
  s_->pattern = compile_regex(regex_of(s_->o.pattern), "tokenizer training pattern");
  for (size_t i = 0; i < s_->o.special.size(); ++i) {
    const std::string& sp = s_->o.special[i];
    require_utf8(sp, "special token");
    KILN_REQUIRE(!sp.empty(), "tokenizer training: empty special token");
    AddedToken t;
    t.id = int32_t(i);
    t.content = sp;
    t.special = true;
    s_->specials.add(t);
  }
}

BpeTrainer::~BpeTrainer() = default;
BpeTrainer::BpeTrainer(BpeTrainer&&) noexcept = default;
BpeTrainer& BpeTrainer::operator=(BpeTrainer&&) noexcept = default;

void BpeTrainer::add_text(std::string_view text) {
  require_utf8(text, "tokenizer training text");
  auto parts = chunks(text, 1 << 20);
  parallel_for(int64_t(parts.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      WordCounts local;
      s_->count(parts[size_t(i)], local);
      std::lock_guard<std::mutex> lock(s_->mu);
      for (auto& [w, c] : local) s_->counts[w] += c;
    }
  });
}

void BpeTrainer::add_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  KILN_REQUIRE(f, "tokenizer training: cannot open '", path, "'");
  std::string text(std::istreambuf_iterator<char>(f), {});
  if (std::filesystem::path(path).extension() != ".jsonl") return add_text(text);
  std::string docs;
  size_t line_no = 0, start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line(text.data() + start,
                          (nl == std::string::npos ? text.size() : nl) - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      KILN_REQUIRE(false, path, ":", line_no, ": not valid JSON: ", e.what());
    }
    KILN_REQUIRE(j.is_object() && j.contains("text") && j["text"].is_string(), path, ":", line_no,
                 ": expected an object with a string \"text\"");
    docs += j["text"].get<std::string>();
    docs += '\n';
  }
  add_text(docs);
}

int64_t BpeTrainer::words() const {
  return int64_t(s_->counts.size());
}

void BpeTrainer::train() {
  State& s = *s_;
  int64_t n_special = int64_t(s.o.special.size());
  KILN_REQUIRE(s.o.vocab_size >= 256 + n_special, "tokenizer training: --vocab-size ",
               s.o.vocab_size, " cannot hold the 256 byte tokens and ", n_special,
               " special tokens");
  s.raw.clear();
  s.merges.clear();
  std::unordered_map<std::string, int32_t> ids;
  for (int b = 0; b < 256; ++b) {
    s.raw.emplace_back(1, char(b));
    ids[s.raw.back()] = b;
  }
  // Words in a fixed order, so that training does not depend on how counting was split up.
  std::vector<std::pair<std::string, int64_t>> sorted(s.counts.begin(), s.counts.end());
  std::sort(sorted.begin(), sorted.end());
  struct Word {
    std::vector<int32_t> syms;
    int64_t count;
  };
  std::vector<Word> words;
  words.reserve(sorted.size());
  for (auto& [w, c] : sorted) {
    Word x{{}, c};
    for (char ch : w) x.syms.push_back(static_cast<unsigned char>(ch));
    words.push_back(std::move(x));
  }
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<uint32_t>> where;
  for (uint32_t w = 0; w < words.size(); ++w) {
    const auto& sy = words[w].syms;
    for (size_t i = 0; i + 1 < sy.size(); ++i) {
      uint64_t p = pair_key(sy[i], sy[i + 1]);
      pair_count[p] += words[w].count;
      auto& list = where[p];
      if (list.empty() || list.back() != w) list.push_back(w);
    }
  }
  using Entry = std::pair<int64_t, uint64_t>;
  auto worse = [](const Entry& a, const Entry& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(worse)> heap(worse);
  for (const auto& [p, c] : pair_count) heap.push({c, p});

  int64_t target = s.o.vocab_size - n_special;
  Progress bar("bpe merges", target - 256, "tokens");
  std::vector<uint32_t> seen(words.size(), UINT32_MAX);
  std::unordered_map<uint64_t, int64_t> delta;
  std::vector<int32_t> merged;
  while (int64_t(s.raw.size()) < target && !heap.empty()) {
    auto [count, p] = heap.top();
    heap.pop();
    auto pc = pair_count.find(p);
    int64_t now = pc == pair_count.end() ? 0 : pc->second;
    if (now != count) {
      if (now > 0) heap.push({now, p});
      continue;
    }
    if (count < s.o.min_frequency) break;
    int32_t a = int32_t(p >> 32), b = int32_t(uint32_t(p));
    std::string joined = s.raw[size_t(a)] + s.raw[size_t(b)];
    auto found = ids.find(joined);
    int32_t id = found != ids.end() ? found->second : int32_t(s.raw.size());
    if (found == ids.end()) {
      s.raw.push_back(joined);
      ids.emplace(joined, id);
    }
    s.merges.emplace_back(a, b);
    uint32_t stamp = uint32_t(s.merges.size());
    delta.clear();
    std::vector<uint32_t> affected = std::move(where[p]);
    where.erase(p);
    for (uint32_t w : affected) {
      if (seen[w] == stamp) continue;
      seen[w] = stamp;
      Word& word = words[w];
      merged.clear();
      bool hit = false;
      for (size_t i = 0; i < word.syms.size(); ++i) {
        if (i + 1 < word.syms.size() && word.syms[i] == a && word.syms[i + 1] == b) {
          merged.push_back(id);
          ++i;
          hit = true;
        } else {
          merged.push_back(word.syms[i]);
        }
      }
      if (!hit) continue;
      for (size_t i = 0; i + 1 < word.syms.size(); ++i)
        delta[pair_key(word.syms[i], word.syms[i + 1])] -= word.count;
      for (size_t i = 0; i + 1 < merged.size(); ++i) {
        uint64_t q = pair_key(merged[i], merged[i + 1]);
        delta[q] += word.count;
        if (merged[i] == id || merged[i + 1] == id) {
          auto& list = where[q];
          if (list.empty() || list.back() != w) list.push_back(w);
        }
      }
      word.syms.swap(merged);
    }
    for (const auto& [q, d] : delta) {
      if (d == 0) continue;
      int64_t& c = pair_count[q];
      c += d;
      if (c <= 0) {
        pair_count.erase(q);
        where.erase(q);
      } else if (d > 0) {  // a fallen count is caught when its stale entry surfaces
        heap.push({c, q});
      }
    }
    pair_count.erase(p);
    if (s.o.progress) bar.update(int64_t(s.raw.size()) - 256);
  }
  if (s.o.progress) bar.finish();
  s.trained = true;
}

int32_t BpeTrainer::vocab_size() const {
  return int32_t(s_->raw.size() + s_->o.special.size());
}

std::string BpeTrainer::tokenizer_json() const {
  const State& s = *s_;
  KILN_REQUIRE(s.trained, "tokenizer training: call train() before writing the tokenizer");
  using ojson = nlohmann::ordered_json;
  ojson byte_level = {{"type", "ByteLevel"},
                      {"add_prefix_space", false},
                      {"trim_offsets", false},
                      {"use_regex", false}};
  ojson pre;
  if (s.o.pattern == "gpt2") {
    pre = byte_level;
    pre["use_regex"] = true;
  } else {
    pre = {{"type", "Sequence"},
           {"pretokenizers",
            {{{"type", "Split"},
              {"pattern", {{"Regex", regex_of(s.o.pattern)}}},
              {"behavior", "Isolated"},
              {"invert", false}},
             byte_level}}};
  }
  ojson added = ojson::array();
  for (size_t i = 0; i < s.o.special.size(); ++i)
    added.push_back({{"id", s.raw.size() + i},
                     {"content", s.o.special[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  ojson vocab = ojson::object();
  for (size_t i = 0; i < s.raw.size(); ++i) vocab[to_byte_level(s.raw[i])] = i;
  ojson merges = ojson::array();
  for (const auto& [a, b] : s.merges)
    merges.push_back(to_byte_level(s.raw[size_t(a)]) + " " + to_byte_level(s.raw[size_t(b)]));
  ojson j = {{"version", "1.0"},
             {"truncation", nullptr},
             {"padding", nullptr},
             {"added_tokens", added},
             {"normalizer", {{"type", "NFC"}}},
             {"pre_tokenizer", pre},
             {"post_processor", byte_level},
             {"decoder", byte_level},
             {"model",
              {{"type", "BPE"},
               {"dropout", nullptr},
               {"unk_token", nullptr},
               {"continuing_subword_prefix", nullptr},
               {"end_of_word_suffix", nullptr},
               {"fuse_unk", false},
               {"byte_fallback", false},
               {"ignore_merges", false},
               {"vocab", vocab},
               {"merges", merges}}}};
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
}

std::string BpeTrainer::tokenizer_config_json() const {
  const State& s = *s_;
  using ojson = nlohmann::ordered_json;
  auto has = [&](const char* t) {
    return std::find(s.o.special.begin(), s.o.special.end(), t) != s.o.special.end();
  };
  ojson eos = has("<|im_end|>")      ? ojson("<|im_end|>")
              : has("<|endoftext|>") ? ojson("<|endoftext|>")
                                     : ojson();
  ojson pad = has("<|endoftext|>") ? ojson("<|endoftext|>") : eos;
  ojson decoder = ojson::object();
  for (size_t i = 0; i < s.o.special.size(); ++i)
    decoder[std::to_string(s.raw.size() + i)] = {{"content", s.o.special[i]}, {"lstrip", false},
                                                 {"normalized", false},       {"rstrip", false},
                                                 {"single_word", false},      {"special", true}};
  ojson c = {{"tokenizer_class", "PreTrainedTokenizerFast"},
             {"model_max_length", s.o.model_max_length},
             {"bos_token", nullptr},
             {"eos_token", eos},
             {"pad_token", pad},
             {"unk_token", nullptr},
             {"add_bos_token", false},
             {"add_eos_token", false},
             {"clean_up_tokenization_spaces", false},
             {"additional_special_tokens", s.o.special},
             {"added_tokens_decoder", decoder}};
  if (has("<|im_start|>") && has("<|im_end|>")) {
    // ChatML; with <think> and </think>, Qwen3's switch: enable_thinking=false writes an empty
    // reasoning block after the generation prompt.
    std::string t =
        "{%- for message in messages %}\n"
        "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}\n"
        "{{- '<|im_start|>assistant\\n' }}\n";
    if (has("<think>") && has("</think>"))
      t += "{%- if enable_thinking is defined and enable_thinking is false %}\n"
           "{{- '<think>\\n\\n</think>\\n\\n' }}\n"
           "{%- endif %}\n";
    t += "{%- endif %}\n";
    c["chat_template"] = t;
  }
  return c.dump(2);
}

void BpeTrainer::save(const std::string& dir) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    fs::path tmp = fs::path(dir) / (name + ".tmp");
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      KILN_REQUIRE(f, "tokenizer training: cannot write '", tmp.string(), "'");
      f.write(text.data(), std::streamsize(text.size()));
      KILN_REQUIRE(f.good(), "tokenizer training: error writing '", tmp.string(), "'");
    }
    fs::rename(tmp, fs::path(dir) / name);
  };
  write("tokenizer.json", tokenizer_json());
  write("tokenizer_config.json", tokenizer_config_json());
}

Tokenizer BpeTrainer::tokenizer() const {
  return Tokenizer::from_json(tokenizer_json(), tokenizer_config_json(), "trained tokenizer");
}

}  // namespace kiln::tokenizer
