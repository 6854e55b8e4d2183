// Writes the gguf_fuzz starting corpus: small files from GGUFWriter covering every value type,
// every tensor type and several alignments, plus each llama-vocab file cut down to its first
// tokens (real key layouts at a size the fuzzer can mutate quickly).
#include <cstdio>
#include <filesystem>
#include <string>

#include "kiln/io/gguf.h"

using namespace kiln;
using namespace kiln::io;

namespace {

void every_value(GGUFWriter& w) {
  w.set("general.architecture", GGUFValue::str("llama"));
  w.set("u8", GGUFValue::u8(1));
  w.set("i8", GGUFValue::i8(-1));
  w.set("u16", GGUFValue::u16(2));
  w.set("i16", GGUFValue::i16(-2));
  w.set("u32", GGUFValue::u32(3));
  w.set("i32", GGUFValue::i32(-3));
  w.set("u64", GGUFValue::u64(4));
  w.set("i64", GGUFValue::i64(-4));
  w.set("f32", GGUFValue::f32(0.5f));
  w.set("f64", GGUFValue::f64(0.25));
  w.set("bool", GGUFValue::boolean(true));
  w.set("strs", GGUFValue::strings({"a", "bc", ""}));
  w.set("i32s", GGUFValue::i32s({1, 2, 3}));
  w.set("f32s", GGUFValue::f32s({1.f, 2.f}));
  w.set("u64s", GGUFValue::u64s({uint64_t(-1)}));
  w.set("bools", GGUFValue::bools({true, false}));
}

void every_tensor(GGUFWriter& w) {
  w.add_tensor("f32", Tensor::ones({2, 3}));
  w.add_tensor("f16", Tensor::ones({3}, DType::F16));
  w.add_tensor("bf16", Tensor::ones({1, 2, 2}, DType::BF16));
  w.add_tensor("i8", Tensor::ones({5}, DType::I8));
  w.add_tensor("q8_0", Tensor::zeros({1, 32}, DType::Q8_0));
  w.add_tensor("q4_0", Tensor::zeros({2, 32}, DType::Q4_0));
  w.add_tensor("q4_k", Tensor::zeros({1, 256}, DType::Q4_K));
}

void small_vocab(const std::string& src, const std::string& out) {
  GGUFReader r(src);
  GGUFWriter w;
  for (const auto& [k, v] : r.metadata()) {
    if (!v.is_array() || v.size() <= 40) {
      w.set(k, v);
    } else if (v.elem_type() == GGUFType::STRING) {
      const auto& s = v.as_strings();
      w.set(k, GGUFValue::strings({s.begin(), s.begin() + 40}));
    } else {
      size_t elem = v.raw().size() / v.size();
      w.set(k, GGUFValue::from_raw(v.elem_type(), true,
                                   {v.raw().begin(), v.raw().begin() + 40 * elem}));
    }
  }
  w.write(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR SHARED_DATA_DIR\n", argv[0]);
    return 2;
  }
  std::filesystem::path out = argv[1], data = argv[2];
  std::filesystem::create_directories(out);
  {
    GGUFWriter w;
    every_value(w);
    w.write((out / "values.gguf").string());
  }
  for (uint32_t align : {1u, 32u, 64u}) {
    GGUFWriter w;
    w.set("general.alignment", GGUFValue::u32(align));
    every_tensor(w);
    w.write((out / ("tensors_align" + std::to_string(align) + ".gguf")).string());
  }
  {
    GGUFWriter w;
    every_value(w);
    every_tensor(w);
    w.write((out / "both.gguf").string());
  }
  int vocabs = 0;
  for (const auto& e : std::filesystem::directory_iterator(data / "llama-vocab")) {
    if (e.path().extension() != ".gguf") continue;
    small_vocab(e.path().string(), (out / ("vocab_" + e.path().filename().string())).string());
    ++vocabs;
  }
  std::printf("gguf seeds: 5 synthetic, %d vocabularies in %s\n", vocabs, out.c_str());
  return 0;
}
