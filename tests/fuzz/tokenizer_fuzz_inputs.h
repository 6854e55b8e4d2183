#pragma once
// Shared by tokenizer_fuzz and its seed writer: the first byte of an input picks what is fuzzed,
// the rest is the payload. Two small tokenizers (byte-level BPE and SentencePiece-style BPE with
// byte fallback) are built in memory so that each run is fast.
#include <string>

#include <nlohmann/json.hpp>

namespace kiln::fuzz {

enum Mode : unsigned char {
  kTokenizerJson = 0,  // payload: a tokenizer.json to load, then encode and decode with it
  kEncodeText = 1,     // payload: text for both small tokenizers to encode
  kDecodeIds = 2,      // payload: 32-bit ids to decode and stream-decode
  kChatTemplate = 3,   // payload: a chat template to parse and render
  kModes = 4,
};

// A SentencePiece-style tokenizer.json: "▁" pieces, merges, <0x00>..<0xFF> fallback tokens.
inline std::string spm_tokenizer_json() {
  using json = nlohmann::json;
  json vocab = json::object();
  int id = 0;
  vocab["<unk>"] = id++;
  vocab["<s>"] = id++;
  vocab["</s>"] = id++;
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = id++;
  }
  for (const char* t :
       {"\u2581",      "a",   "b",       "c",       "e",         "h",       "l",
        "o",           "t",   "\u2581t", "he",      "\u2581the", "ll",      "\u2581he",
        "\u2581hello", "llo", "lo",      "\u2581a", "ab",        "\u2581ab"})
    vocab[t] = id++;
  json merges = {"\u2581 t",     "h e", "\u2581t he", "l l", "\u2581 he", "ll o",
                 "\u2581he llo", "l o", "\u2581 a",   "a b", "\u2581a b"};
  return json{{"normalizer",
               {{"type", "Sequence"},
                {"normalizers",
                 {{{"type", "Prepend"}, {"prepend", "\u2581"}},
                  {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}}}}},
              {"pre_tokenizer", nullptr},
              {"decoder",
               {{"type", "Sequence"},
                {"decoders",
                 {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                  {{"type", "ByteFallback"}},
                  {{"type", "Fuse"}},
                  {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
              {"added_tokens",
               {{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                {{"id", 1}, {"content", "<s>"}, {"special", true}},
                {{"id", 2}, {"content", "</s>"}, {"special", true}}}},
              {"model",
               {{"type", "BPE"},
                {"vocab", vocab},
                {"merges", merges},
                {"unk_token", "<unk>"},
                {"byte_fallback", true},
                {"fuse_unk", true}}}}
      .dump();
}

inline const char* kFuzzTemplate =
    "{%- set ns = namespace(n=0) -%}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
    "<|im_start|>{{ m.role }}\n{{ m.content | trim }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}{{ ns.n }}";

}  // namespace kiln::fuzz
