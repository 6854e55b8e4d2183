// Reads every llama.cpp vocabulary file in shared/data/llama-vocab (written by llama.cpp's own
// gguf-py), checks the keys a tokenizer relies on, and rewrites each with GGUFWriter: the result
// must be the original bytes, plus the zero padding to the alignment those files omit at the end.
#include <algorithm>
#include <map>

#include "gguf_test_util.h"
#include "kiln/io/gguf.h"

namespace kiln::io {
namespace {

std::vector<std::string> vocab_files() {
  std::vector<std::string> out;
  std::filesystem::path dir = std::filesystem::path(KILN_SHARED_DATA) / "llama-vocab";
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.rfind("ggml-vocab-", 0) == 0 && e.path().extension() == ".gguf")
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(GGUFVocab, EveryFileHasAConsistentVocabulary) {
  auto files = vocab_files();
  ASSERT_GE(files.size(), 10u) << "llama-vocab files missing under " << KILN_SHARED_DATA;
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    GGUFReader r(path);
    EXPECT_EQ(r.version(), 3u);
    const std::string& arch = r.get("general.architecture").as_string();
    EXPECT_FALSE(arch.empty());
    EXPECT_FALSE(r.get("tokenizer.ggml.model").as_string().empty());
    const auto& tokens = r.get("tokenizer.ggml.tokens").as_strings();
    size_t n = tokens.size();
    EXPECT_GT(n, 1000u);
    EXPECT_EQ(r.get("tokenizer.ggml.token_type").size(), n);
    if (const GGUFValue* s = r.find("tokenizer.ggml.scores")) {
      EXPECT_EQ(s->as_floats().size(), n);
    }
    if (const GGUFValue* v = r.find(arch + ".vocab_size")) {
      EXPECT_EQ(v->as_uint(), n);
    }
    for (const char* id : {"bos", "eos", "unknown", "padding", "seperator", "cls", "mask"}) {
      if (const GGUFValue* v = r.find(std::string("tokenizer.ggml.") + id + "_token_id")) {
        EXPECT_LT(v->as_uint(), n) << id;
      }
    }
    if (const GGUFValue* m = r.find("tokenizer.ggml.merges")) {
      for (const std::string& merge : m->as_strings()) {
        ASSERT_NE(merge.find(' '), std::string::npos) << "merge '" << merge << "'";
      }
    }
    for (int64_t t : r.get("tokenizer.ggml.token_type").as_ints()) {
      ASSERT_GE(t, 1);
      ASSERT_LE(t, 6);
    }
  }
}

TEST(GGUFVocab, KnownValues) {
  std::string dir = std::string(KILN_SHARED_DATA) + "/llama-vocab/";
  GGUFReader gpt2(dir + "ggml-vocab-gpt-2.gguf");
  const auto& g = gpt2.get("tokenizer.ggml.tokens").as_strings();
  ASSERT_EQ(g.size(), 50257u);
  EXPECT_EQ(g[50256], "<|endoftext|>");
  EXPECT_EQ(g[0], "!");
  EXPECT_EQ(gpt2.get("tokenizer.ggml.merges").size(), 50000u);
  EXPECT_EQ(gpt2.get("tokenizer.ggml.merges").as_strings()[0], "Ġ t");
  EXPECT_EQ(gpt2.get("tokenizer.ggml.eos_token_id").as_int(), 50256);
  EXPECT_EQ(gpt2.get("gpt2.context_length").as_int(), 1024);

  GGUFReader spm(dir + "ggml-vocab-llama-spm.gguf");
  const auto& s = spm.get("tokenizer.ggml.tokens").as_strings();
  ASSERT_EQ(s.size(), 32000u);
  EXPECT_EQ(s[0], "<unk>");
  EXPECT_EQ(s[1], "<s>");
  EXPECT_EQ(s[2], "</s>");
  EXPECT_EQ(spm.get("tokenizer.ggml.model").as_string(), "llama");
  EXPECT_EQ(spm.get("tokenizer.ggml.scores").as_floats().size(), 32000u);

  GGUFReader bert(dir + "ggml-vocab-bert-bge.gguf");
  const auto& b = bert.get("tokenizer.ggml.tokens").as_strings();
  ASSERT_EQ(b.size(), 30522u);
  EXPECT_EQ(b[101], "[CLS]");
  EXPECT_EQ(b[102], "[SEP]");
  EXPECT_FALSE(bert.get("bert.attention.causal").as_bool());
  EXPECT_FLOAT_EQ(float(bert.get("bert.attention.layer_norm_epsilon").as_float()), 1e-12f);
}

TEST(GGUFVocab, RewritingReproducesTheBytes) {
  for (const std::string& path : vocab_files()) {
    SCOPED_TRACE(path);
    GGUFReader r(path);
    GGUFWriter w;
    for (const auto& [k, v] : r.metadata()) w.set(k, v);
    ASSERT_TRUE(r.tensors().empty());
    std::string out = testing::temp_path("rewrite");
    w.write(out);
    std::vector<uint8_t> want = testing::read_bytes(path);
    want.resize((want.size() + 31) / 32 * 32, 0);
    EXPECT_TRUE(testing::read_bytes(out) == want);
    std::filesystem::remove(out);
  }
}

}  // namespace
}  // namespace kiln::io
