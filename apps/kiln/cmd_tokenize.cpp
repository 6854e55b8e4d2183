// kiln tokenize / kiln detokenize: text to ids and back with a model's tokenizer.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "command.h"
#include "id_list.h"
#include "kiln/core/error.h"
#include "kiln/tokenizer/tokenizer.h"

namespace {

using kiln::tokenizer::Tokenizer;

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  KILN_REQUIRE(f, "cannot open '", path, "'");
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
}

std::string ids_json(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

// Calls fn(line_number, json) for each line of a JSON-lines file (a final empty line is fine).
template <class Fn>
void for_each_json_line(const std::string& path, Fn fn) {
  std::ifstream f(path, std::ios::binary);
  KILN_REQUIRE(f, "cannot open '", path, "'");
  std::string line;
  for (size_t n = 1; std::getline(f, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      KILN_REQUIRE(false, path, ":", n, ": not valid JSON: ", e.what());
    }
    fn(n, j);
  }
}

std::vector<int32_t> parse_ids(const nlohmann::json& j, const std::string& where) {
  KILN_REQUIRE(j.is_array(), where, ": expected a JSON array of token ids, found ", j.type_name());
  std::vector<int32_t> ids;
  for (const auto& v : j) {
    KILN_REQUIRE(
        v.is_number_integer() && v.get<int64_t>() >= INT32_MIN && v.get<int64_t>() <= INT32_MAX,
        where, ": expected integer token ids, found ", v.dump());
    ids.push_back(int32_t(v.get<int64_t>()));
  }
  return ids;
}

std::string decode(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip, bool stream) {
  if (!stream) return tok.decode(ids, skip);
  kiln::tokenizer::StreamDecoder dec(tok, skip);
  std::string out;
  for (int32_t id : ids) out += dec.push(id);
  return out + dec.finish();
}

struct TokenizeOptions {
  std::string tokenizer, file, jsonl, text;
  bool add_special = false, literal_special = false;
};

struct DetokenizeOptions {
  std::string tokenizer, jsonl, ids;
  bool skip_special = false, stream = false;
};

kiln::app::RegisterCommand tokenize_cmd([](CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  auto* c = app.add_subcommand("tokenize", "Encode text to token ids, printed as a JSON array");
  c->add_option("--tokenizer", o->tokenizer, "tokenizer.json, the folder holding it, or a .gguf")
      ->required();
  auto* file = c->add_option("--file", o->file, "encode the contents of this file");
  auto* jsonl = c->add_option("--jsonl", o->jsonl,
                              "one JSON string per line in; one JSON id array per line out");
  auto* text = c->add_option("text", o->text, "the text to encode");
  file->excludes(jsonl)->excludes(text);
  jsonl->excludes(text);
  c->add_flag("--add-special", o->add_special, "add the BOS/EOS the tokenizer's config asks for");
  c->add_flag("--literal-special", o->literal_special,
              "treat special tokens written in the text as plain text");
  c->callback([o, file, jsonl, text] {
    KILN_REQUIRE(file->count() + jsonl->count() + text->count() > 0,
                 "tokenize: give the TEXT to encode, --file or --jsonl");
    Tokenizer tok = Tokenizer::load(o->tokenizer);
    kiln::tokenizer::EncodeOptions eo;
    eo.add_special = o->add_special;
    eo.parse_special = !o->literal_special;
    if (!o->jsonl.empty()) {
      std::string out;
      for_each_json_line(o->jsonl, [&](size_t n, const nlohmann::json& j) {
        KILN_REQUIRE(j.is_string(), o->jsonl, ":", n, ": expected a JSON string, found ",
                     j.type_name());
        out += ids_json(tok.encode(j.get_ref<const std::string&>(), eo));
        out += '\n';
        if (out.size() > (1 << 20)) {
          write(out);
          out.clear();
        }
      });
      write(out);
      return;
    }
    std::string input = o->file.empty() ? o->text : read_file(o->file);
    write(ids_json(tok.encode(input, eo)) + "\n");
  });
});

kiln::app::RegisterCommand detokenize_cmd([](CLI::App& app) {
  auto o = std::make_shared<DetokenizeOptions>();
  auto* c = app.add_subcommand("detokenize", "Decode token ids (1,2,3 or [1,2,3]) to text");
  c->add_option("--tokenizer", o->tokenizer, "tokenizer.json, the folder holding it, or a .gguf")
      ->required();
  auto* jsonl = c->add_option("--jsonl", o->jsonl,
                              "one JSON id array per line in; one JSON string per line out");
  auto* ids = c->add_option("ids", o->ids, "comma-separated token ids");
  jsonl->excludes(ids);
  c->add_flag("--skip-special", o->skip_special, "leave special tokens out of the text");
  c->add_flag("--stream", o->stream,
              "decode one token at a time, as a server streams (the text must be the same)");
  c->callback([o, jsonl, ids] {
    KILN_REQUIRE(jsonl->count() + ids->count() > 0, "detokenize: give the ids (1,2,3) or --jsonl");
    Tokenizer tok = Tokenizer::load(o->tokenizer);
    if (o->jsonl.empty()) {
      std::vector<int32_t> ids;
      for (int64_t id : kiln::app::parse_id_list(o->ids, "detokenize", 0)) {
        KILN_REQUIRE(id >= INT32_MIN && id <= INT32_MAX, "detokenize: ", id, " is not a token id");
        ids.push_back(int32_t(id));
      }
      write(decode(tok, ids, o->skip_special, o->stream));
      return;
    }
    std::string out;
    for_each_json_line(o->jsonl, [&](size_t n, const nlohmann::json& j) {
      std::string where = o->jsonl + ":" + std::to_string(n);
      std::string text = decode(tok, parse_ids(j, where), o->skip_special, o->stream);
      out += nlohmann::json(text).dump();
      out += '\n';
    });
    write(out);
  });
});

}  // namespace
