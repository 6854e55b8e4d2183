// GGUF write → read round trips, the on-disk layout llama.cpp expects, and a hand-made v2 file.
#include <limits>
#include <random>

#include "gguf_test_util.h"
#include "kiln/io/gguf.h"

namespace kiln::io {
namespace {

using testing::Bytes;
using testing::expect_error;
using testing::read_bytes;
using testing::temp_path;

std::vector<std::pair<std::string, GGUFValue>> every_value_type() {
  return {
      {"t.u8", GGUFValue::u8(250)},
      {"t.i8", GGUFValue::i8(-120)},
      {"t.u16", GGUFValue::u16(65000)},
      {"t.i16", GGUFValue::i16(-32000)},
      {"t.u32", GGUFValue::u32(4000000000u)},
      {"t.i32", GGUFValue::i32(-2000000000)},
      {"t.u64", GGUFValue::u64(std::numeric_limits<uint64_t>::max())},
      {"t.i64", GGUFValue::i64(std::numeric_limits<int64_t>::min())},
      {"t.f32", GGUFValue::f32(3.25f)},
      {"t.f64", GGUFValue::f64(-1e300)},
      {"t.bool", GGUFValue::boolean(true)},
      {"t.str", GGUFValue::str("héllo\nworld")},
      {"t.empty_str", GGUFValue::str("")},
      {"t.u8s", GGUFValue::u8s({0, 1, 255})},
      {"t.i8s", GGUFValue::i8s({-128, 0, 127})},
      {"t.u16s", GGUFValue::u16s({1, 65535})},
      {"t.i16s", GGUFValue::i16s({-32768, 32767})},
      {"t.u32s", GGUFValue::u32s({7, 4294967295u})},
      {"t.i32s", GGUFValue::i32s({-1, 2, -3})},
      {"t.u64s", GGUFValue::u64s({1, uint64_t(1) << 63})},
      {"t.i64s", GGUFValue::i64s({-(int64_t(1) << 62), 5})},
      {"t.f32s", GGUFValue::f32s({0.5f, -1.5f, 1e-30f})},
      {"t.f64s", GGUFValue::f64s({0.1, -0.2})},
      {"t.bools", GGUFValue::bools({true, false, true})},
      {"t.strs", GGUFValue::strings({"a", "", "b c", std::string("\0x", 2)})},
      {"t.empty_arr", GGUFValue::i32s({})},
      {"t.empty_strs", GGUFValue::strings({})},
  };
}

TEST(GGUF, MetadataOfEveryTypeRoundTrips) {
  std::string path = temp_path("meta");
  GGUFWriter w;
  auto want = every_value_type();
  for (const auto& [k, v] : want) w.set(k, v);
  w.write(path);
  GGUFReader r(path);
  EXPECT_EQ(r.version(), 3u);
  ASSERT_EQ(r.metadata().size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.metadata()[i].first, want[i].first);
    EXPECT_TRUE(r.metadata()[i].second == want[i].second) << want[i].first;
  }
  EXPECT_EQ(r.get("t.u8").as_int(), 250);
  EXPECT_EQ(r.get("t.i8").as_int(), -120);
  EXPECT_EQ(r.get("t.u32").as_int(), 4000000000LL);
  EXPECT_EQ(r.get("t.i64").as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r.get("t.u64").as_uint(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(r.get("t.f32").as_float(), 3.25);
  EXPECT_EQ(r.get("t.f64").as_float(), -1e300);
  EXPECT_EQ(r.get("t.u16").as_float(), 65000.0);
  EXPECT_TRUE(r.get("t.bool").as_bool());
  EXPECT_EQ(r.get("t.str").as_string(), "héllo\nworld");
  EXPECT_EQ(r.get("t.i8s").as_ints(), (std::vector<int64_t>{-128, 0, 127}));
  EXPECT_EQ(r.get("t.u32s").as_ints(), (std::vector<int64_t>{7, 4294967295LL}));
  EXPECT_EQ(r.get("t.f32s").as_floats(), (std::vector<float>{0.5f, -1.5f, 1e-30f}));
  EXPECT_EQ(r.get("t.f64s").as_floats(), (std::vector<float>{0.1f, -0.2f}));
  EXPECT_EQ(r.get("t.i32s").as_floats(), (std::vector<float>{-1, 2, -3}));
  EXPECT_EQ(r.get("t.bools").as_bools(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(r.get("t.strs").as_strings(),
            (std::vector<std::string>{"a", "", "b c", std::string("\0x", 2)}));
  EXPECT_EQ(r.get("t.empty_arr").size(), 0u);
  EXPECT_EQ(r.get("t.strs").elem_type(), GGUFType::STRING);
  EXPECT_EQ(r.get("t.strs").type(), GGUFType::ARRAY);
  EXPECT_EQ(r.find("missing"), nullptr);
  std::filesystem::remove(path);
}

TEST(GGUF, ValueAccessorsRefuseTheWrongType) {
  expect_error([] { GGUFValue::u32(1).as_string(); }, {"u32", "expected a string"});
  expect_error([] { GGUFValue::str("x").as_int(); }, {"string", "expected an integer"});
  expect_error([] { GGUFValue::f32(1).as_int(); }, {"f32", "integer"});
  expect_error([] { GGUFValue::i32s({1}).as_int(); }, {"array of i32"});
  expect_error([] { GGUFValue::i32(1).as_ints(); }, {"i32", "array of integers"});
  expect_error([] { GGUFValue::u64(uint64_t(1) << 63).as_int(); }, {"does not fit"});
  expect_error([] { GGUFValue::i8(-1).as_uint(); }, {"negative"});
  expect_error([] { GGUFValue::strings({"a"}).as_floats(); }, {"array of string"});
  expect_error([] { GGUFValue::u8(1).as_bool(); }, {"expected a bool"});
}

TEST(GGUF, WriterReplacesAKeyInPlace) {
  std::string path = temp_path("replace");
  GGUFWriter w;
  w.set("a", GGUFValue::u32(1));
  w.set("b", GGUFValue::u32(2));
  w.set("a", GGUFValue::str("again"));
  w.write(path);
  GGUFReader r(path);
  ASSERT_EQ(r.metadata().size(), 2u);
  EXPECT_EQ(r.metadata()[0].first, "a");
  EXPECT_EQ(r.get("a").as_string(), "again");
  std::filesystem::remove(path);
}

Tensor random_tensor(const Shape& shape, DType dt, std::mt19937& rng) {
  Tensor t = Tensor::empty(shape, dt);
  auto* p = static_cast<uint8_t*>(t.raw_data());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = uint8_t(rng());
  return t;
}

std::vector<uint8_t> bytes_of(const Tensor& t) {
  Tensor c = t.contiguous();
  auto* p = static_cast<const uint8_t*>(c.raw_data());
  return std::vector<uint8_t>(p, p + c.nbytes());
}

struct Case {
  std::string name;
  Shape shape;
  DType dtype;
};

std::vector<Case> every_tensor_type() {
  return {
      {"f32.matrix", {3, 5}, DType::F32},      {"f32.scalar", {}, DType::F32},
      {"f16.vector", {7}, DType::F16},         {"bf16.cube", {2, 3, 4}, DType::BF16},
      {"f64.rank4", {2, 1, 3, 2}, DType::F64}, {"i8.odd", {3}, DType::I8},
      {"i32.matrix", {4, 3}, DType::I32},      {"i64.vector", {5}, DType::I64},
      {"q8_0.matrix", {3, 64}, DType::Q8_0},   {"q4_0.matrix", {2, 96}, DType::Q4_0},
      {"q4_k.matrix", {2, 512}, DType::Q4_K},  {"q8_0.rank3", {2, 2, 32}, DType::Q8_0},
  };
}

uint64_t round_up(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}

TEST(GGUF, TensorsOfEveryTypeRoundTripExactly) {
  std::string path = temp_path("tensors");
  std::mt19937 rng(7);
  GGUFWriter w;
  w.set("general.architecture", GGUFValue::str("test"));
  std::vector<Tensor> src;
  for (const Case& c : every_tensor_type()) {
    src.push_back(random_tensor(c.shape, c.dtype, rng));
    w.add_tensor(c.name, src.back());
  }
  // A non-contiguous view is written in logical order.
  Tensor base = random_tensor({4, 6}, DType::F32, rng);
  w.add_tensor("f32.transposed", base.transpose(0, 1));
  w.write(path);

  GGUFReader r(path);
  EXPECT_EQ(r.alignment(), 32u);
  EXPECT_EQ(r.data_offset() % 32, 0u);
  auto cases = every_tensor_type();
  ASSERT_EQ(r.tensors().size(), cases.size() + 1);
  uint64_t expect_offset = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const GGUFTensorInfo& info = r.tensors()[i];
    EXPECT_EQ(info.name, cases[i].name);
    EXPECT_EQ(info.shape, cases[i].shape) << info.name;
    EXPECT_EQ(info.dtype, cases[i].dtype) << info.name;
    // llama.cpp requires consecutive offsets, each tensor padded to the alignment.
    EXPECT_EQ(info.offset, expect_offset) << info.name;
    expect_offset += round_up(src[i].nbytes(), 32);
    Tensor t = r.tensor(info.name);
    EXPECT_EQ(t.sizes(), cases[i].shape);
    EXPECT_EQ(t.dtype(), cases[i].dtype);
    EXPECT_EQ(bytes_of(t), bytes_of(src[i])) << info.name;
  }
  EXPECT_EQ(bytes_of(r.tensor("f32.transposed")), bytes_of(base.transpose(0, 1).contiguous()));
  expect_offset += round_up(base.nbytes(), 32);
  EXPECT_EQ(std::filesystem::file_size(path), r.data_offset() + expect_offset);
  std::filesystem::remove(path);
}

TEST(GGUF, TensorsAreZeroCopyAndOutliveTheReader) {
  std::string path = temp_path("zerocopy");
  std::mt19937 rng(1);
  Tensor src = random_tensor({8, 32}, DType::Q8_0, rng);
  GGUFWriter w;
  w.add_tensor("w", src);
  w.write(path);
  Tensor a, b;
  {
    GGUFReader r(path);
    a = r.tensor("w");
    b = r.tensor("w");
  }
  EXPECT_EQ(a.raw_data(), b.raw_data());  // both point into the one mapping
  std::filesystem::remove(path);          // the mapping stays valid after unlink
  EXPECT_EQ(bytes_of(a), bytes_of(src));
}

TEST(GGUF, HonoursGeneralAlignment) {
  std::mt19937 rng(3);
  for (uint32_t align : {1u, 8u, 64u, 4096u}) {
    std::string path = temp_path("align" + std::to_string(align));
    GGUFWriter w;
    w.set("general.alignment", GGUFValue::u32(align));
    Tensor a = random_tensor({3}, DType::I8, rng);
    Tensor b = random_tensor({5}, DType::F32, rng);
    Tensor c = random_tensor({1, 32}, DType::Q4_0, rng);
    w.add_tensor("a", a);
    w.add_tensor("b", b);
    w.add_tensor("c", c);
    w.write(path);
    GGUFReader r(path);
    EXPECT_EQ(r.alignment(), align);
    EXPECT_EQ(r.data_offset() % align, 0u);
    EXPECT_EQ(r.tensors()[1].offset, round_up(3, align));
    EXPECT_EQ(r.tensors()[2].offset, round_up(3, align) + round_up(20, align));
    // With alignment 1, b starts at an odd address and is copied rather than viewed.
    EXPECT_EQ(bytes_of(r.tensor("a")), bytes_of(a));
    EXPECT_EQ(bytes_of(r.tensor("b")), bytes_of(b));
    EXPECT_EQ(bytes_of(r.tensor("c")), bytes_of(c));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(r.tensor("b").raw_data()) % 4, 0u);
    std::filesystem::remove(path);
  }
}

TEST(GGUF, ReadsAHandMadeVersion2File) {
  // Written field by field from the GGUF spec, independently of GGUFWriter.
  Bytes f;
  f.raw("GGUF").u32(2).u64(1).u64(2);
  f.str("general.architecture").u32(8).str("llama");
  f.str("a.arr").u32(9).u32(3).u64(3).put<int16_t>(1).put<int16_t>(-2).put<int16_t>(3);
  f.str("w").u32(2).u64(3).u64(2).u32(0).u64(0);  // ne = [3, 2], f32, offset 0
  f.pad(32);
  for (float v : {1.f, 2.f, 3.f, 4.f, 5.f, 6.f}) f.put(v);
  std::string path = temp_path("v2");
  testing::write_bytes(path, f.b);
  GGUFReader r(path);
  EXPECT_EQ(r.version(), 2u);
  EXPECT_EQ(r.get("general.architecture").as_string(), "llama");
  EXPECT_EQ(r.get("a.arr").as_ints(), (std::vector<int64_t>{1, -2, 3}));
  ASSERT_EQ(r.tensors().size(), 1u);
  EXPECT_EQ(r.tensors()[0].shape, (Shape{2, 3}));  // ne reversed: rows of ne[0] = 3
  EXPECT_EQ(r.tensor("w").to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  std::filesystem::remove(path);
}

TEST(GGUF, WriterProducesTheSpecBytes) {
  std::string path = temp_path("bytes");
  GGUFWriter w;
  w.set("k", GGUFValue::u16(0x0102));
  w.set("s", GGUFValue::strings({"ab"}));
  w.add_tensor("t", Tensor::from_vector<float>({1.f, 2.f}, {1, 2}));
  w.write(path);
  Bytes f;
  f.raw("GGUF").u32(3).u64(1).u64(2);
  f.str("k").u32(2).put<uint16_t>(0x0102);
  f.str("s").u32(9).u32(8).u64(1).str("ab");
  f.str("t").u32(2).u64(2).u64(1).u32(0).u64(0);
  f.pad(32);
  f.put(1.f).put(2.f).pad(32);
  EXPECT_EQ(read_bytes(path), f.b);
  std::filesystem::remove(path);
}

TEST(GGUF, LargeStringArraysRoundTrip) {
  std::string path = temp_path("vocab");
  std::vector<std::string> tokens(150000);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = "tok" + std::to_string(i * 7919);
  GGUFWriter w;
  w.set("tokenizer.ggml.tokens", GGUFValue::strings(tokens));
  w.write(path);
  GGUFReader r(path);
  EXPECT_EQ(r.get("tokenizer.ggml.tokens").as_strings(), tokens);
  std::filesystem::remove(path);
}

TEST(GGUF, MissingKeysAndTensorsNameThemselvesAndTheFile) {
  std::string path = temp_path("missing");
  GGUFWriter w;
  w.set("a", GGUFValue::u8(1));
  w.write(path);
  GGUFReader r(path);
  expect_error([&] { r.get("no.such.key"); }, {"no.such.key", path});
  expect_error([&] { r.tensor("no.such.tensor"); }, {"no.such.tensor", path});
  EXPECT_EQ(r.find_tensor("no.such.tensor"), nullptr);
  std::filesystem::remove(path);
}

TEST(GGUF, DtypeMappingFollowsGgml) {
  EXPECT_EQ(ggml_type_id(DType::F32), 0u);
  EXPECT_EQ(ggml_type_id(DType::F16), 1u);
  EXPECT_EQ(ggml_type_id(DType::Q4_0), 2u);
  EXPECT_EQ(ggml_type_id(DType::Q8_0), 8u);
  EXPECT_EQ(ggml_type_id(DType::Q4_K), 12u);
  EXPECT_EQ(ggml_type_id(DType::I8), 24u);
  EXPECT_EQ(ggml_type_id(DType::I32), 26u);
  EXPECT_EQ(ggml_type_id(DType::I64), 27u);
  EXPECT_EQ(ggml_type_id(DType::F64), 28u);
  EXPECT_EQ(ggml_type_id(DType::BF16), 30u);
  for (uint32_t id : {0u, 1u, 2u, 8u, 12u, 24u, 26u, 27u, 28u, 30u})
    EXPECT_EQ(ggml_type_id(gguf_dtype(id)), id);
  expect_error([] { ggml_type_id(DType::U8); }, {"u8"});
  expect_error([] { gguf_dtype(14); }, {"q6_k", "14"});
  expect_error([] { gguf_dtype(77); }, {"77"});
}

}  // namespace
}  // namespace kiln::io
