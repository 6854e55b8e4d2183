// The public Tokenizer API on the real tokenizer.json files of Qwen3, Llama-3, Llama-2 and
// Gemma-3 (expected ids are transformers.js's for the same text), streaming decode, special
// tokens, errors, and concurrent use.
#include <gtest/gtest.h>

#include <thread>

#include "kiln/core/error.h"
#include "kiln/tokenizer/utf8.h"
#include "test_util.h"

namespace kiln::tokenizer {
namespace {

using testing::model;
using Ids = std::vector<int32_t>;

const char* kSample =
    "Hello world!  It's  3.14159 tabs\there\n\nnew 你好世界 🤗 <|im_end|> <s> </s>";

TEST(Tokenizer, EncodesAsTransformersJs) {
  EXPECT_EQ(model("qwen3").encode(kSample),
            (Ids{9707, 1879, 0,   220,    1084, 594,  220, 220, 18,  13,     16,    19,
                 16,   20,   24,  22398,  197,  6739, 271, 931, 220, 108386, 99489, 11162,
                 97,   245,  220, 151645, 366,  82,   29,  690, 82,  29}));
  EXPECT_EQ(model("llama3").encode(kSample),
            (Ids{9906,  1917, 0,    220, 1102, 596,    220,   220,    18,    13, 9335, 2946,
                 23204, 197,  6881, 271, 943,  118195, 53901, 102616, 11410, 97, 245,  83739,
                 318,   6345, 91,   29,  366,  82,     29,    694,    82,    29}));
  EXPECT_EQ(model("llama2").encode(kSample),
            (Ids{22557, 1526,  28808, 28705, 661,   28742, 28713, 259,  28770, 28723, 28740,
                 28781, 28740, 28782, 28774, 261,   4737,  12,    7750, 13,    13,    1095,
                 28705, 29383, 29530, 30050, 29822, 28705, 243,   162,  167,   154,   523,
                 28766, 321,   28730, 416,   28766, 28767, 28705, 1,    259,   2}));
  EXPECT_EQ(model("gemma3").encode(kSample),
            (Ids{9259,   1902,   236888, 138,    1509,   236789, 236751, 138,    236800,
                 236761, 236770, 236812, 236770, 236810, 236819, 42364,  255968, 8472,
                 108,    1951,   43758,  237389, 12811,  223603, 655,    236909, 548,
                 236779, 643,    111038, 236743, 203,    236743, 212}));
}

TEST(Tokenizer, DecodesBack) {
  for (const char* name : {"qwen3", "llama3", "gemma3"}) {
    const Tokenizer& t = model(name);
    EXPECT_EQ(t.decode(t.encode(kSample)), kSample) << name;
  }
  // Llama-2's normalizer prepends "▁" to each piece of text between special tokens, so the
  // space between <s> and </s> comes back doubled, as in transformers.
  std::string s = kSample;
  EXPECT_EQ(model("llama2").decode(model("llama2").encode(kSample)),
            s.replace(s.find("<s> </s>"), 8, "<s>  </s>"));
}

TEST(Tokenizer, SpecialTokensFollowTheConfig) {
  EXPECT_EQ(model("llama2").encode("hi", true).front(), 1);  // add_bos_token: true
  EXPECT_EQ(model("gemma3").encode("hi", true).front(), 2);
  EXPECT_EQ(model("qwen3").encode("hi", true), model("qwen3").encode("hi"));  // add_bos: false
  EXPECT_TRUE(model("llama2").add_bos());
  EXPECT_FALSE(model("llama2").add_eos());
  EXPECT_FALSE(model("qwen3").add_bos());
  EXPECT_EQ(model("qwen3").eos_id(), 151645);
  EXPECT_EQ(model("qwen3").pad_id(), 151643);
  EXPECT_FALSE(model("qwen3").bos_id().has_value());
  EXPECT_EQ(model("llama3").bos_id(), 128000);
  EXPECT_EQ(model("llama2").unk_id(), 0);
  EXPECT_EQ(model("qwen3").special_tokens().eos, "<|im_end|>");
  EXPECT_TRUE(model("qwen3").is_special(151645));
  EXPECT_FALSE(model("qwen3").is_special(9707));
  EXPECT_EQ(model("qwen3").vocab_size(), 151669);
}

TEST(Tokenizer, SpecialTokensInTextCanBeLiteral) {
  const Tokenizer& t = model("qwen3");
  EXPECT_EQ(t.encode("<|im_end|>"), (Ids{151645}));
  EncodeOptions literal;
  literal.parse_special = false;
  Ids ids = t.encode("<|im_end|>", literal);
  EXPECT_GT(ids.size(), 1u);
  EXPECT_EQ(t.decode(ids), "<|im_end|>");
  // Added tokens that are not special (Qwen's <tool_call>) are still recognized.
  EXPECT_EQ(t.encode("<tool_call>", literal), (Ids{151657}));
}

TEST(Tokenizer, SkipSpecialOnDecode) {
  const Tokenizer& t = model("qwen3");
  Ids ids = t.encode("<|im_start|>user\nhi<|im_end|>");
  EXPECT_EQ(t.decode(ids), "<|im_start|>user\nhi<|im_end|>");
  EXPECT_EQ(t.decode(ids, true), "user\nhi");
}

TEST(Tokenizer, VocabularyLookups) {
  const Tokenizer& t = model("llama3");
  EXPECT_EQ(t.id_to_token(9906), "Hello");
  EXPECT_EQ(t.token_id("Hello"), 9906);
  EXPECT_EQ(t.token_id("<|begin_of_text|>"), 128000);
  EXPECT_FALSE(t.token_id("definitely not a token").has_value());
  EXPECT_EQ(t.id_to_token(1917), "\u0120world");  // byte-level: "Ġworld"
}

TEST(Tokenizer, StreamDecoderHoldsPartialCharacters) {
  const Tokenizer& t = model("qwen3");
  Ids emoji = t.encode("𠀋");  // byte-level tokens that each hold part of the character
  ASSERT_GE(emoji.size(), 2u);
  StreamDecoder d(t);
  for (size_t i = 0; i + 1 < emoji.size(); ++i) EXPECT_EQ(d.push(emoji[i]), "");
  EXPECT_EQ(d.push(emoji.back()), "𠀋");
  EXPECT_EQ(d.finish(), "");
}

TEST(Tokenizer, StreamingEqualsDecode) {
  for (const char* name : {"qwen3", "llama3", "llama2", "gemma3"}) {
    const Tokenizer& t = model(name);
    for (bool skip : {false, true}) {
      Ids ids = t.encode(kSample, true);
      StreamDecoder d(t, skip);
      std::string text;
      for (int32_t id : ids) {
        std::string piece = d.push(id);
        EXPECT_EQ(find_invalid_utf8(piece), kValidUtf8) << name;
        text += piece;
      }
      text += d.finish();
      EXPECT_EQ(text, t.decode(ids, skip)) << name << " skip=" << skip;
    }
  }
}

TEST(Tokenizer, UnfinishedCharacterAtTheEndBecomesReplacement) {
  const Tokenizer& t = model("qwen3");
  Ids emoji = t.encode("𠀋");
  ASSERT_GE(emoji.size(), 2u);
  StreamDecoder d(t);
  EXPECT_EQ(d.push(emoji[0]), "");
  EXPECT_EQ(d.finish(), "\xEF\xBF\xBD");
  EXPECT_EQ(t.decode(Ids{emoji[0]}), "\xEF\xBF\xBD");
}

TEST(Tokenizer, BadInputIsAClearError) {
  const Tokenizer& t = model("qwen3");
  try {
    t.decode(Ids{1, 999999});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown token id 999999"), std::string::npos) << e.what();
  }
  EXPECT_THROW(t.decode(Ids{-1}), Error);
  EXPECT_THROW(t.id_to_token(151669), Error);
  try {
    t.encode("ok \xFF bad");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tokenizer::load("/nonexistent/tokenizer.json"), Error);
}

TEST(Tokenizer, ConcurrentEncodeMatchesSerial) {
  const Tokenizer& t = model("llama3");
  std::vector<std::string> texts;
  for (int i = 0; i < 400; ++i)
    texts.push_back("line " + std::to_string(i * 7919) + ": the quick brown fox " +
                    std::string(size_t(i % 13), '!') + " ünïcödé 中文 " + std::to_string(i));
  std::vector<Ids> serial;
  for (const auto& s : texts) serial.push_back(t.encode(s));
  std::vector<std::vector<Ids>> parallel(4, std::vector<Ids>(texts.size()));
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (size_t i = 0; i < texts.size(); ++i) parallel[size_t(k)][i] = t.encode(texts[i]);
    });
  for (auto& th : threads) th.join();
  for (int k = 0; k < 4; ++k) EXPECT_EQ(parallel[size_t(k)], serial);
}

TEST(Tokenizer, LoadsFromTheFileOrTheFolder) {
  std::string dir = testing::model_dir("llama2");
  Tokenizer a = Tokenizer::load(dir), b = Tokenizer::load(dir + "/tokenizer.json");
  EXPECT_EQ(a.encode(kSample, true), b.encode(kSample, true));
}

}  // namespace
}  // namespace kiln::tokenizer
