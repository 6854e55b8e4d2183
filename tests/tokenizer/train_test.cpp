// BPE training: merge order, determinism, special tokens, round trips, limits.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kiln/core/error.h"
#include "kiln/tokenizer/train_bpe.h"

namespace kiln::tokenizer {
namespace {

BpeTrainOptions options(int32_t vocab, std::vector<std::string> special = {}) {
  BpeTrainOptions o;
  o.vocab_size = vocab;
  o.special = std::move(special);
  o.progress = false;
  o.min_frequency = 1;
  return o;
}

TEST(TrainBpe, MergesMostFrequentPairFirstAndBreaksTiesBySmallerIds) {
  BpeTrainer t(options(259));
  t.add_text("ab cd");  // words "ab", " cd": three pairs seen once each
  t.train();
  auto j = nlohmann::json::parse(t.tokenizer_json());
  auto merges = j["model"]["merges"];
  ASSERT_EQ(merges.size(), 3u);
  EXPECT_EQ(merges[0], "\u0120 c");  // (32, 99) is the smallest pair
  EXPECT_EQ(merges[1], "a b");
  EXPECT_EQ(merges[2], "\u0120c d");

  BpeTrainer u(options(257));
  u.add_text("xy xy xy ab");
  u.train();
  EXPECT_EQ(nlohmann::json::parse(u.tokenizer_json())["model"]["merges"][0], "x y");  // 3 times
}

TEST(TrainBpe, TrainsATokenizerThatRoundTrips) {
  std::string text;
  for (int i = 0; i < 50; ++i)
    text +=
        "The quick brown fox jumps over the lazy dog. Ünïcödé 中文字 😀 " + std::to_string(i) + "\n";
  BpeTrainer t(options(300, {"<|im_start|>", "<|im_end|>", "<|endoftext|>"}));
  t.add_text(text + "<|im_start|>user<|im_end|>");
  t.train();
  EXPECT_EQ(t.vocab_size(), 300);
  Tokenizer tok = t.tokenizer();
  EXPECT_EQ(tok.vocab_size(), 300);
  EXPECT_EQ(tok.token_id("<|im_start|>"), 297);
  EXPECT_EQ(tok.token_id("<|endoftext|>"), 299);
  EXPECT_EQ(tok.eos_id(), 298);
  EXPECT_LT(tok.encode(text).size(), text.size() / 2);  // 41 merges already halve it
  for (const std::string& s :
       {text, std::string("unseen: Привет, мир! ½ \t\n"), std::string("<|im_start|>x<|im_end|>")})
    EXPECT_EQ(tok.decode(tok.encode(s)), s);
  EXPECT_EQ(tok.encode("<|im_end|>"), (std::vector<int32_t>{298}));
  EXPECT_FALSE(tok.chat_template().empty());
}

TEST(TrainBpe, DeterministicWhateverTheOrderOfInput) {
  BpeTrainer a(options(300)), b(options(300));
  a.add_text("one two three\n");
  a.add_text("four five six six\n");
  b.add_text("four five six six\n");
  b.add_text("one two three\n");
  a.train();
  b.train();
  EXPECT_EQ(a.tokenizer_json(), b.tokenizer_json());
}

TEST(TrainBpe, Limits) {
  BpeTrainOptions o = options(300);
  o.min_frequency = 1000;
  BpeTrainer t(o);
  t.add_text("aaaa bbbb");
  t.train();
  EXPECT_EQ(t.vocab_size(), 256);  // no pair is frequent enough
  BpeTrainer small(options(257, {"<a>", "<b>"}));
  EXPECT_THROW(small.train(), Error);
  BpeTrainer bad(options(300));
  EXPECT_THROW(bad.add_text("\xFF"), Error);
  EXPECT_THROW(bad.add_file("/nonexistent.txt"), Error);
}

}  // namespace
}  // namespace kiln::tokenizer
