#pragma once
// Splits a chat template into text and tag tokens, applying Jinja2's whitespace control with
// the settings transformers uses: trim_blocks, lstrip_blocks, `-` / `+` modifiers, and the one
// trailing newline of the template dropped. Internal.
#include <string>
#include <vector>

namespace kiln::tokenizer::jinja {

struct Token {
  enum class Kind {
    kText,
    kVarBegin,
    kVarEnd,
    kBlockBegin,
    kBlockEnd,
    kName,
    kString,
    kInt,
    kFloat,
    kOp,
    kEnd
  };
  Kind kind;
  std::string text;  // text, name, operator, or the decoded string literal / number spelling
  int line;
};

std::vector<Token> lex_template(const std::string& source);

}  // namespace kiln::tokenizer::jinja
