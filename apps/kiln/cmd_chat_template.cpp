// kiln chat-template: renders a conversation with a model's chat template, as the model sees it.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "command.h"
#include "kiln/core/error.h"
#include "kiln/tokenizer/chat_template.h"

namespace {

using nlohmann::ordered_json;

ordered_json read_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  KILN_REQUIRE(f, "cannot open '", path, "'");
  try {
    return ordered_json::parse(std::string(std::istreambuf_iterator<char>(f), {}));
  } catch (const ordered_json::exception& e) {
    KILN_REQUIRE(false, path, ": not valid JSON: ", e.what());
  }
  return {};
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  KILN_REQUIRE(f, "cannot open '", path, "'");
  return std::string(std::istreambuf_iterator<char>(f), {});
}

struct ChatTemplateOptions {
  std::string tokenizer, messages, template_file, thinking, tools;
  bool add_generation_prompt = false;
};

kiln::app::RegisterCommand chat_template_cmd([](CLI::App& app) {
  auto o = std::make_shared<ChatTemplateOptions>();
  auto* c =
      app.add_subcommand("chat-template", "Render a conversation with a model's chat template");
  c->add_option("--tokenizer", o->tokenizer,
                "tokenizer folder, tokenizer.json, tokenizer_config.json or .gguf")
      ->required();
  c->add_option("--messages", o->messages,
                "JSON file: a list of {role, content} messages, or an object with \"messages\" "
                "and other template variables")
      ->required();
  c->add_flag("--add-generation-prompt", o->add_generation_prompt,
              "end with the start of the assistant's turn");
  c->add_option("--thinking", o->thinking, "enable_thinking for templates that read it (Qwen3)")
      ->check(CLI::IsMember({"on", "off"}));
  c->add_option("--tools", o->tools, "JSON file with a list of tool schemas");
  c->add_option("--template", o->template_file, "use this Jinja file instead of the model's");
  c->callback([o] {
    kiln::tokenizer::ChatTemplateSource src = kiln::tokenizer::read_chat_template(o->tokenizer);
    if (!o->template_file.empty()) src.source = read_text(o->template_file);
    KILN_REQUIRE(
        !src.source.empty(), o->tokenizer,
        ": no chat template (tokenizer_config.json has no chat_template); pass --template");
    ordered_json input = read_json(o->messages);
    kiln::tokenizer::ChatOptions opts;
    opts.add_generation_prompt = o->add_generation_prompt;
    ordered_json messages = input;
    if (input.is_object()) {
      KILN_REQUIRE(input.contains("messages"), o->messages,
                   ": expected a list of messages or an object with \"messages\"");
      messages = input["messages"];
      for (const auto& [k, v] : input.items())
        if (k != "messages") opts.extra[k] = v;
    }
    if (!o->thinking.empty()) opts.enable_thinking = o->thinking == "on";
    if (!o->tools.empty()) opts.tools = read_json(o->tools);
    std::string text = kiln::tokenizer::ChatTemplate(src.source).apply(messages, src.special, opts);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });
});

}  // namespace
