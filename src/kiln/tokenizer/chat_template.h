#pragma once
// Chat templates: the Jinja template in a model's tokenizer_config.json (or GGUF metadata) that
// turns a conversation into the exact prompt text the model was trained on. kiln runs them with
// its own interpreter of the Jinja2 subset these templates use (if / for / set / macro,
// namespace(), loop variables, slicing, filters such as tojson and trim, tests such as defined
// and string, Python string methods), with transformers' settings: trim_blocks, lstrip_blocks,
// loop controls, tojson without HTML escaping, and raise_exception().
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kiln/tokenizer/tokenizer.h"

namespace kiln::tokenizer {

namespace jinja {
struct Template;
}

struct ChatOptions {
  bool add_generation_prompt = false;   // end with the header of the assistant's turn
  std::optional<bool> enable_thinking;  // Qwen3: false asks for an empty <think></think>
  nlohmann::ordered_json tools;         // tool schemas; null renders as None
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // more template variables
};

class ChatTemplate {
 public:
  // Parses; throws kiln::Error naming the line of a syntax error.
  explicit ChatTemplate(std::string source);
  // Renders with the members of `context` (a JSON object) as variables.
  std::string render(const nlohmann::ordered_json& context) const;
  // What transformers' apply_chat_template(..., tokenize=False) renders: messages,
  // add_generation_prompt, tools, documents (None), the special-token strings that are set,
  // enable_thinking if given, then `extra`.
  std::string apply(const nlohmann::ordered_json& messages, const SpecialTokens& special,
                    const ChatOptions& options = {}) const;
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::shared_ptr<const jinja::Template> template_;
};

// A model's chat template and special tokens without loading its vocabulary: from a tokenizer
// folder (tokenizer_config.json, or chat_template.jinja), a tokenizer.json or
// tokenizer_config.json path, or a .gguf. `source` is "" when the model has none.
struct ChatTemplateSource {
  std::string source;
  SpecialTokens special;
};
ChatTemplateSource read_chat_template(const std::string& path);

// Renders with the tokenizer's own template; throws kiln::Error if it has none.
std::string apply_chat_template(const Tokenizer& tokenizer, const nlohmann::ordered_json& messages,
                                const ChatOptions& options = {});

}  // namespace kiln::tokenizer
