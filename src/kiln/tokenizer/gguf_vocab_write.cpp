#include "kiln/tokenizer/gguf_vocab_write.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/core/error.h"
#include "kiln/io/gguf.h"
#include "kiln/tokenizer/pattern.h"
#include "kiln/tokenizer/tokenizer.h"

namespace kiln::tokenizer {

namespace {

using json = nlohmann::json;
using io::GGUFValue;

// llama.cpp's token types.
constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

bool has_byte_level(const json& j) {
  if (j.is_object() && j.value("type", "") == "ByteLevel") return true;
  if (j.is_object())
    for (const char* list : {"pretokenizers", "decoders"})
      if (j.contains(list))
        for (const json& s : j[list])
          if (has_byte_level(s)) return true;
  return false;
}

// The first Split regex of a pre-tokenizer, "" when there is none.
std::string split_regex(const json& j) {
  if (!j.is_object()) return "";
  if (j.value("type", "") == "Split" && j.contains("pattern") && j["pattern"].contains("Regex"))
    return j["pattern"]["Regex"].get<std::string>();
  if (j.contains("pretokenizers"))
    for (const json& s : j["pretokenizers"])
      if (std::string r = split_regex(s); !r.empty()) return r;
  return "";
}

// llama.cpp's name for the pre-tokenizer (tokenizer.ggml.pre).
std::string pre_name(const json& pre, const std::string& where) {
  std::string re = split_regex(pre);
  if (re == kLlama3Regex) return "llama-bpe";
  if (re == kQwen2Regex) return "qwen2";
  KILN_REQUIRE(re.empty() && pre.is_object() && pre.value("type", "") == "ByteLevel" &&
                   pre.value("use_regex", true),
               where, ": pre_tokenizer: found ", pre.dump().substr(0, 200),
               ", expected GPT-2's, Llama-3's or Qwen2's (other pre-tokenizers are not written to "
               "GGUF yet)");
  return "gpt-2";
}

std::string merge_text(const json& m, const std::string& where) {
  if (m.is_string()) return m.get<std::string>();
  KILN_REQUIRE(m.is_array() && m.size() == 2, where, ": model.merges: found ", m.dump(),
               ", expected \"a b\" or [a, b]");
  return m[0].get<std::string>() + " " + m[1].get<std::string>();
}

}  // namespace

void write_gguf_vocab(const std::string& path, int64_t n_vocab, io::GGUFWriter& w) {
  namespace fs = std::filesystem;
  fs::path file = fs::is_directory(path) ? fs::path(path) / "tokenizer.json" : fs::path(path);
  const std::string where = file.string();
  std::ifstream in(file);
  KILN_REQUIRE(in, where, ": cannot open");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(str(where, ": not valid JSON: ", e.what()));
  }
  const json& model = j.at("model");
  KILN_REQUIRE(model.value("type", "BPE") == "BPE" && has_byte_level(j["pre_tokenizer"]), where,
               ": only byte-level BPE tokenizers are written to GGUF");

  std::vector<std::string> tokens(static_cast<size_t>(n_vocab));
  std::vector<int32_t> types(static_cast<size_t>(n_vocab), kUnused);
  auto put = [&](int64_t id, const std::string& text, int32_t type) {
    KILN_REQUIRE(id >= 0 && id < n_vocab, where, ": token \"", text, "\" has id ", id,
                 ", expected an id below the model's vocab_size ", n_vocab);
    tokens[size_t(id)] = text;
    types[size_t(id)] = type;
  };
  for (const auto& [text, id] : model.at("vocab").items()) put(id.get<int64_t>(), text, kNormal);
  for (const json& a : j.value("added_tokens", json::array()))
    put(a.at("id").get<int64_t>(), a.at("content").get<std::string>(),
        a.value("special", false) ? kControl : kUserDefined);
  for (int64_t id = 0; id < n_vocab; ++id)
    if (types[size_t(id)] == kUnused) tokens[size_t(id)] = "[PAD" + std::to_string(id) + "]";
  std::vector<std::string> merges;
  for (const json& m : model.value("merges", json::array())) merges.push_back(merge_text(m, where));

  Tokenizer t = Tokenizer::load(path);
  w.set("tokenizer.ggml.model", GGUFValue::str("gpt2"));
  w.set("tokenizer.ggml.pre", GGUFValue::str(pre_name(j["pre_tokenizer"], where)));
  w.set("tokenizer.ggml.tokens", GGUFValue::strings(std::move(tokens)));
  w.set("tokenizer.ggml.token_type", GGUFValue::i32s(types));
  w.set("tokenizer.ggml.merges", GGUFValue::strings(std::move(merges)));
  if (t.bos_id()) w.set("tokenizer.ggml.bos_token_id", GGUFValue::u32(uint32_t(*t.bos_id())));
  if (t.eos_id()) w.set("tokenizer.ggml.eos_token_id", GGUFValue::u32(uint32_t(*t.eos_id())));
  if (t.pad_id()) w.set("tokenizer.ggml.padding_token_id", GGUFValue::u32(uint32_t(*t.pad_id())));
  w.set("tokenizer.ggml.add_bos_token", GGUFValue::boolean(t.add_bos()));
  w.set("tokenizer.ggml.add_eos_token", GGUFValue::boolean(t.add_eos()));
  if (!t.chat_template().empty())
    w.set("tokenizer.chat_template", GGUFValue::str(t.chat_template()));
}

}  // namespace kiln::tokenizer
