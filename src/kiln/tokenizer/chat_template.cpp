#include "kiln/tokenizer/chat_template.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "kiln/core/error.h"
#include "kiln/io/gguf.h"
#include "kiln/tokenizer/jinja_ast.h"
#include "kiln/tokenizer/tokenizer_data.h"

namespace kiln::tokenizer {

ChatTemplate::ChatTemplate(std::string source)
    : source_(std::move(source)), template_(jinja::parse_template(source_)) {}

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const {
  KILN_REQUIRE(context.is_object(), "chat template: the context must be a JSON object, found ",
               context.type_name());
  jinja::Value vars = jinja::Value::from_json(context);
  return jinja::render_template(*template_, vars.dict());
}

std::string ChatTemplate::apply(const nlohmann::ordered_json& messages,
                                const SpecialTokens& special, const ChatOptions& o) const {
  KILN_REQUIRE(messages.is_array(), "chat template: messages must be a JSON array, found ",
               messages.type_name());
  nlohmann::ordered_json ctx = {{"messages", messages},
                                {"tools", o.tools},
                                {"documents", nullptr},
                                {"add_generation_prompt", o.add_generation_prompt}};
  if (!special.bos.empty()) ctx["bos_token"] = special.bos;
  if (!special.eos.empty()) ctx["eos_token"] = special.eos;
  if (!special.unk.empty()) ctx["unk_token"] = special.unk;
  if (!special.pad.empty()) ctx["pad_token"] = special.pad;
  if (o.enable_thinking) ctx["enable_thinking"] = *o.enable_thinking;
  if (o.extra.is_object())
    for (const auto& [k, v] : o.extra.items()) ctx[k] = v;
  return render(ctx);
}

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  KILN_REQUIRE(f, "chat template: cannot open '", p.string(), "'");
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

ChatTemplateSource read_chat_template(const std::string& path) {
  namespace fs = std::filesystem;
  KILN_REQUIRE(fs::exists(path), "chat template: '", path, "' does not exist");
  ChatTemplateSource out;
  fs::path p = path;
  if (p.extension() == ".gguf") {
    io::GGUFReader g(path);
    if (const io::GGUFValue* t = g.find("tokenizer.chat_template")) out.source = t->as_string();
    const auto& tokens = g.get("tokenizer.ggml.tokens").as_strings();
    auto token = [&](const char* key) -> std::string {
      const io::GGUFValue* v = g.find(key);
      if (!v) return "";
      int64_t id = v->as_int();
      KILN_REQUIRE(id >= 0 && size_t(id) < tokens.size(), path, ": ", key, " is ", id,
                   "; expected an id below ", tokens.size());
      return tokens[size_t(id)];
    };
    out.special = {token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id"),
                   token("tokenizer.ggml.unknown_token_id"),
                   token("tokenizer.ggml.padding_token_id")};
    return out;
  }
  fs::path dir = fs::is_directory(p) ? p : p.parent_path();
  fs::path config = p.filename() == "tokenizer_config.json" ? p : dir / "tokenizer_config.json";
  if (fs::exists(config))
    detail::read_template_config(read_file(config), config.string(), out.source, out.special);
  if (out.source.empty() && fs::exists(dir / "chat_template.jinja"))
    out.source = read_file(dir / "chat_template.jinja");
  return out;
}

std::string apply_chat_template(const Tokenizer& tokenizer, const nlohmann::ordered_json& messages,
                                const ChatOptions& options) {
  KILN_REQUIRE(!tokenizer.chat_template().empty(), tokenizer.name(),
               ": the tokenizer has no chat template");
  return ChatTemplate(tokenizer.chat_template())
      .apply(messages, tokenizer.special_tokens(), options);
}

}  // namespace kiln::tokenizer
