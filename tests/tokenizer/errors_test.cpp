// Malformed tokenizer.json and tokenizer_config.json files are refused with a kiln::Error that
// says what is wrong and where.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kiln/core/error.h"
#include "kiln/tokenizer/tokenizer.h"

namespace kiln::tokenizer {
namespace {

using json = nlohmann::json;

json tiny() {
  return {
      {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", {"a b"}}}},
      {"added_tokens", json::array()}};
}

void expect_error(const std::string& text, const std::string& needle,
                  const std::string& config = "") {
  try {
    Tokenizer::from_json(text, config, "t.json");
    FAIL() << "no error; expected one mentioning: " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message: " << e.what() << "\nexpected to mention: " << needle;
  }
}

TEST(TokenizerErrors, TinyTokenizerWorks) {
  Tokenizer t = Tokenizer::from_json(tiny().dump());
  EXPECT_EQ(t.encode("abba"), (std::vector<int32_t>{2, 1, 0}));
  EXPECT_EQ(t.decode(std::vector<int32_t>{2, 1}), "ab b");  // no decoder: tokens joined by spaces
}

TEST(TokenizerErrors, MalformedFiles) {
  expect_error("{\"model\": ", "t.json: not valid JSON");
  expect_error("[1, 2]", "expected a JSON object");
  expect_error("{}", "missing field \"model\"");
  json j = tiny();
  j["model"]["type"] = "WordPiece";
  expect_error(j.dump(), "\"WordPiece\" is not supported");
  j = tiny();
  j["model"]["vocab"] = json::array({"a", "b"});
  expect_error(j.dump(), "model.vocab: expected an object");
  j = tiny();
  j["model"]["vocab"]["c"] = "3";
  expect_error(j.dump(), "model.vocab: expected integer ids, found a string");
  j = tiny();
  j["model"]["vocab"]["c"] = -4;
  expect_error(j.dump(), "id -4 out of range");
  j = tiny();
  j["model"]["merges"] = {"a c"};
  expect_error(j.dump(), "'c' is not in the vocabulary");
  j = tiny();
  j["model"]["merges"] = {"ab"};
  expect_error(j.dump(), "is not two tokens separated by one space");
  j = tiny();
  j["model"]["merges"] = {"b a"};
  expect_error(j.dump(), "the merged token 'ba' is not in the vocabulary");
  j = tiny();
  j["model"]["merges"] = json::array({json::array({"a", 1})});
  expect_error(j.dump(), "model.merges[0]: expected two strings");
  j = tiny();
  j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "x"}};
  expect_error(j.dump(), "\"Precompiled\" is not supported");
  j = tiny();
  j["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  expect_error(j.dump(), "does not compile");
  j = tiny();
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  expect_error(j.dump(), "\"Sideways\" is not one of");
  j = tiny();
  j["decoder"] = {{"type", "CTC"}};
  expect_error(j.dump(), "\"CTC\" is not supported");
  j = tiny();
  j["added_tokens"] = json::array({{{"id", 5}}});
  expect_error(j.dump(), "added_tokens[0]: missing field \"content\"");
  j = tiny();
  j["added_tokens"] = json::array({{{"id", -2}, {"content", "<x>"}}});
  expect_error(j.dump(), "added_tokens[0].id");
  j = tiny();
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", json::array({{{"SpecialToken", {{"id", "<s>"}}}}})},
                         {"special_tokens", json::object()}};
  expect_error(j.dump(), "missing field \"<s>\"");
  expect_error(tiny().dump(), "chat_template: expected a string", "{\"chat_template\": 5}");
  expect_error(tiny().dump(), "add_bos_token is true but bos_token",
               "{\"add_bos_token\": true, \"bos_token\": \"<nope>\"}");
  expect_error(tiny().dump(), "tokenizer_config.json): not valid JSON", "{");
}

TEST(TokenizerErrors, UnencodableCharacter) {
  Tokenizer t = Tokenizer::from_json(tiny().dump());
  try {
    t.encode("abc");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no token for 'c'"), std::string::npos) << e.what();
  }
  json j = tiny();
  j["model"]["vocab"]["<unk>"] = 3;
  j["model"]["unk_token"] = "<unk>";
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(Tokenizer::from_json(j.dump()).encode("abccca"), (std::vector<int32_t>{2, 3, 0}));
}

}  // namespace
}  // namespace kiln::tokenizer
