// kiln convert --model PATH --to gguf|hf --out PATH [--type T] [--tokenizer PATH]: any model kiln
// opens (preset, Hugging Face folder, GGUF) written as a GGUF file or a Hugging Face folder.
// kiln quantize --model PATH --out F.gguf --type q8_0|q4_0|q4_k|f16|bf16 is the same conversion
// to GGUF under the name users look for (a quantized source is expanded to f32 first). The
// tokenizer travels along: a GGUF source's tokenizer.* keys, or the tokenizer.json of --tokenizer
// or of the HF folder. Output is written under a temporary name and renamed, so a failure
// leaves nothing at --out.
#include <unistd.h>
#include <filesystem>

#include "command.h"
#include "kiln/io/gguf.h"
#include "kiln/models/gguf_model.h"
#include "kiln/models/hf_checkpoint.h"
#include "kiln/models/open_model.h"
#include "kiln/tokenizer/gguf_vocab_write.h"

namespace kiln::app {
namespace {

namespace fs = std::filesystem;

struct ConvertArgs {
  std::string model, to, out, type = "f32", tokenizer;
  uint64_t seed = 0;
};

// The tokenizer.json to carry into the output: --tokenizer, else one in the HF source folder.
std::string tokenizer_source(const ConvertArgs& a) {
  if (!a.tokenizer.empty()) return a.tokenizer;
  if (models::is_hf_dir(a.model) && fs::exists(fs::path(a.model) / "tokenizer.json"))
    return a.model;
  return "";
}

void to_gguf(const models::Decoder& m, const ConvertArgs& a) {
  io::GGUFWriter w;
  models::add_gguf_model(m, w, {parse_dtype(a.type)});
  if (std::string tok = tokenizer_source(a); !tok.empty()) {
    tokenizer::write_gguf_vocab(tok, m.config().vocab_size, w);
  } else if (models::is_gguf_path(a.model)) {
    io::GGUFReader src(a.model);
    for (const auto& [key, value] : src.metadata())
      if (key.starts_with("tokenizer.")) w.set(key, value);
  }
  w.write(a.out);  // temporary file + rename
}

void to_hf(const models::Decoder& m, const ConvertArgs& a) {
  fs::path out(a.out);
  KILN_REQUIRE(!fs::exists(out), "--out ", a.out, ": exists; remove it or choose another path");
  fs::path tmp = out.parent_path() / (out.filename().string() + ".tmp" + std::to_string(getpid()));
  try {
    models::SaveOptions o;
    o.dtype = parse_dtype(a.type);
    models::save_hf(m, tmp.string(), o);
    std::string tok = tokenizer_source(a);
    fs::path dir = fs::is_directory(tok) ? fs::path(tok) : fs::path(tok).parent_path();
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
      if (!tok.empty() && fs::exists(dir / f)) fs::copy_file(dir / f, tmp / f);
    fs::rename(tmp, out);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
}

void run(const ConvertArgs& a) {
  KILN_REQUIRE(a.to == "gguf" || a.to == "hf", "--to: found \"", a.to, "\", expected gguf or hf");
  // Checked before loading, which may take long.
  const std::string gguf_types = "f32|f16|bf16|q8_0|q4_0|q4_k", hf_types = "f32|bf16|f16";
  const std::string& allowed = a.to == "gguf" ? gguf_types : hf_types;
  KILN_REQUIRE(("|" + allowed + "|").find("|" + a.type + "|") != std::string::npos,
               "--type: found \"", a.type, "\", expected one of ", allowed, " for --to ", a.to);
  auto model = models::open_model(a.model, a.seed, DType::F32, /*packed=*/false);
  if (a.to == "gguf")
    to_gguf(*model, a);
  else
    to_hf(*model, a);
  std::printf("wrote %s (%s, %s)\n", a.out.c_str(), a.to.c_str(), a.type.c_str());
}

RegisterCommand reg_quantize([](CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  args->to = "gguf";
  CLI::App* cmd = app.add_subcommand(
      "quantize", "Write a model as a GGUF file of q8_0, q4_0, q4_k, f16 or bf16 weights");
  cmd->add_option("--model", args->model, "Hugging Face folder, .gguf file, or preset name")
      ->required();
  cmd->add_option("--out", args->out, "output .gguf file")->required();
  cmd->add_option("--type", args->type, "q8_0|q4_0|q4_k|f16|bf16")->required();
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer.json (or its folder) to include");
  cmd->add_option("--seed", args->seed, "init seed for a preset");
  cmd->callback([args] {
    const std::string types = "q8_0|q4_0|q4_k|f16|bf16";
    KILN_REQUIRE(("|" + types + "|").find("|" + args->type + "|") != std::string::npos,
                 "--type: found \"", args->type, "\", expected one of ", types);
    run(*args);
  });
});

RegisterCommand reg([](CLI::App& app) {
  auto args = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand("convert", "Write a model as GGUF or a Hugging Face folder");
  cmd->add_option("--model", args->model, "Hugging Face folder, .gguf file, or preset name")
      ->required();
  cmd->add_option("--to", args->to, "gguf or hf")->required();
  cmd->add_option("--out", args->out, "output .gguf file or folder")->required();
  cmd->add_option("--type", args->type,
                  "tensor type: gguf f32|f16|bf16|q8_0|q4_0|q4_k; hf f32|bf16|f16");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer.json (or its folder) to include");
  cmd->add_option("--seed", args->seed, "init seed for a preset");
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace kiln::app
