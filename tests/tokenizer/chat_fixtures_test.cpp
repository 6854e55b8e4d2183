// Chat prompts rendered by kiln equal what transformers' apply_chat_template rendered for the
// same conversations (tests/data/chat_templates.json, made by tools/make_chat_fixtures.py with
// transformers 5.17 on the GPU machine): Qwen3 with thinking on, off and unset, Llama-3,
// Llama-2 and ChatML, with and without the generation prompt.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "kiln/tokenizer/chat_template.h"

namespace kiln::tokenizer {
namespace {

TEST(ChatTemplateFixtures, MatchTransformersApplyChatTemplate) {
  std::ifstream in(KILN_SOURCE_DIR "/tests/data/chat_templates.json");
  ASSERT_TRUE(in) << "missing tests/data/chat_templates.json";
  nlohmann::ordered_json fixtures = nlohmann::ordered_json::parse(in);
  ASSERT_EQ(fixtures.size(), 48u);
  int checked = 0;
  for (const auto& f : fixtures) {
    ASSERT_FALSE(f["expected"].is_null()) << "a fixture transformers could not render";
    ChatTemplate t(f["chat_template"].get<std::string>());
    SpecialTokens sp;
    if (f["bos_token"].is_string()) sp.bos = f["bos_token"];
    if (f["eos_token"].is_string()) sp.eos = f["eos_token"];
    ChatOptions o;
    o.add_generation_prompt = f["add_generation_prompt"];
    if (!f["enable_thinking"].is_null()) o.enable_thinking = f["enable_thinking"].get<bool>();
    EXPECT_EQ(t.apply(f["messages"], sp, o), f["expected"].get<std::string>())
        << f["template_name"] << " with " << f["messages"].dump() << ", generation prompt "
        << o.add_generation_prompt << ", thinking " << f["enable_thinking"];
    ++checked;
  }
  EXPECT_EQ(checked, 48);
}

}  // namespace
}  // namespace kiln::tokenizer
