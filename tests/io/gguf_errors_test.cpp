// Malformed GGUF files: each is refused with a kiln::Error naming the file, the field or tensor,
// and what was found versus expected. Files are built field by field so each defect is exact.
#include <functional>

#include "gguf_test_util.h"
#include "kiln/io/gguf.h"

namespace kiln::io {
namespace {

using testing::Bytes;
using testing::expect_error;

// The parts of a small valid file, so a test can swap one of them for a defect.
struct Parts {
  uint32_t version = 3;
  uint64_t n_tensors = 1, n_kv = 1;
  std::string magic = "GGUF";
  std::function<void(Bytes&)> kv = [](Bytes& f) { f.str("general.architecture").u32(8).str("x"); };
  std::function<void(Bytes&)> tensors = [](Bytes& f) {
    f.str("w").u32(2).u64(4).u64(2).u32(0).u64(0);  // f32 [2, 4] at offset 0
  };
  size_t data_bytes = 32;

  std::vector<uint8_t> build() const {
    Bytes f;
    f.raw(magic).u32(version).u64(n_tensors).u64(n_kv);
    kv(f);
    tensors(f);
    f.pad(32);
    f.b.resize(f.b.size() + data_bytes);
    return f.b;
  }
};

void expect_refused(const Parts& p, std::vector<std::string> fragments) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(p.build());
  fragments.push_back("bad.gguf");
  expect_error([&] { GGUFReader::from_memory(bytes, "bad.gguf"); }, fragments);
}

TEST(GGUFErrors, TheBaseFileIsValid) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(Parts().build());
  GGUFReader r = GGUFReader::from_memory(bytes, "ok.gguf");
  EXPECT_EQ(r.tensors().size(), 1u);
  EXPECT_EQ(r.tensor("w").to_vector<float>(), std::vector<float>(8, 0.f));
}

TEST(GGUFErrors, Header) {
  Parts p;
  p.magic = "GGUX";
  expect_refused(p, {"bad magic 'GGUX'", "expected 'GGUF'"});
  p = Parts();
  p.version = 1;
  expect_refused(p, {"version 1", "expected 2 or 3"});
  p.version = 4;
  expect_refused(p, {"version 4", "expected 2 or 3"});
  p.version = 0x03000000;
  expect_refused(p, {"big-endian"});
  p = Parts();
  p.n_kv = uint64_t(1) << 40;
  expect_refused(p, {"metadata count 1099511627776", "absurd"});
  p = Parts();
  p.n_tensors = uint64_t(1) << 59;
  expect_refused(p, {"tensor count", "absurd"});
  auto tiny = std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>{'G', 'G'});
  expect_error([&] { GGUFReader::from_memory(tiny, "tiny.gguf"); },
               {"tiny.gguf", "magic", "needs 4 bytes", "truncated"});
}

TEST(GGUFErrors, Metadata) {
  Parts p;
  p.kv = [](Bytes& f) { f.str("k").u32(13).u32(0); };
  expect_refused(p, {"key 'k'", "value type is 13", "expected a GGUF value type"});
  p.kv = [](Bytes& f) { f.str("k").u32(9).u32(9).u64(1); };
  expect_refused(p, {"key 'k'", "nested arrays"});
  p.kv = [](Bytes& f) { f.str("k").u32(9).u32(4).u64(uint64_t(1) << 61); };
  expect_refused(p, {"key 'k'", "array length 2305843009213693952", "u32"});
  p.kv = [](Bytes& f) { f.str("k").u32(9).u32(8).u64(uint64_t(1) << 40); };
  expect_refused(p, {"key 'k'", "array length", "string"});
  p.kv = [](Bytes& f) { f.str("k").u32(8).u64(uint64_t(1) << 62); };
  expect_refused(p, {"key 'k'", "string value needs 4611686018427387904 bytes", "truncated"});
  p.kv = [](Bytes& f) { f.u64(uint64_t(-1)); };
  expect_refused(p, {"metadata entry 0", "key needs"});
  p.kv = [](Bytes& f) { f.str("").u32(4).u32(1); };
  expect_refused(p, {"empty key"});
  p.n_kv = 2;
  p.kv = [](Bytes& f) { f.str("k").u32(4).u32(1).str("k").u32(4).u32(2); };
  expect_refused(p, {"key 'k'", "duplicate key"});
}

TEST(GGUFErrors, Alignment) {
  Parts p;
  p.kv = [](Bytes& f) { f.str("general.alignment").u32(10).u64(32); };
  expect_refused(p, {"general.alignment", "is a u64, expected u32"});
  p.kv = [](Bytes& f) { f.str("general.alignment").u32(4).u32(48); };
  expect_refused(p, {"general.alignment", "48 is not a power of two"});
  p.kv = [](Bytes& f) { f.str("general.alignment").u32(4).u32(0); };
  expect_refused(p, {"general.alignment", "0 is not a power of two"});
}

TEST(GGUFErrors, TensorDescriptors) {
  Parts p;
  p.tensors = [](Bytes& f) { f.str("w").u32(5).u64(1).u64(1).u64(1).u64(1).u64(1).u32(0).u64(0); };
  expect_refused(p, {"tensor 'w'", "rank 5", "at most 4"});
  p.tensors = [](Bytes& f) { f.str("w").u32(2).u64(32).u64(2).u32(13).u64(0); };
  expect_refused(p, {"tensor 'w'", "q5_k (13)", "not supported"});
  p.tensors = [](Bytes& f) { f.str("w").u32(2).u64(32).u64(2).u32(1000).u64(0); };
  expect_refused(p, {"tensor 'w'", "unknown ggml type id 1000"});
  p.tensors = [](Bytes& f) { f.str("w").u32(2).u64(16).u64(2).u32(8).u64(0); };
  expect_refused(p, {"tensor 'w'", "rows of 16", "q8_0 block size 32"});
  p.tensors = [](Bytes& f) {
    f.str("w").u32(2).u64(uint64_t(1) << 40).u64(uint64_t(1) << 40).u32(0).u64(0);
  };
  expect_refused(p, {"tensor 'w'", "larger than 2^60"});
  // An empty tensor's other dimensions still feed its strides, so they are bounded too.
  p.tensors = [](Bytes& f) {
    f.str("w").u32(3).u64(1 << 20).u64(0).u64(uint64_t(1) << 50).u32(0).u64(0);
  };
  expect_refused(p, {"tensor 'w'", "dimension 2", "larger than 2^60"});
  p.tensors = [](Bytes& f) { f.str("w").u32(1).u64(uint64_t(-1)).u32(0).u64(0); };
  expect_refused(p, {"tensor 'w'", "dimension 0"});
  p.n_tensors = 2;
  p.tensors = [](Bytes& f) {
    f.str("w").u32(1).u64(1).u32(0).u64(0);
    f.str("w").u32(1).u64(1).u32(0).u64(32);
  };
  expect_refused(p, {"tensor 'w'", "duplicate tensor name"});
}

TEST(GGUFErrors, TensorData) {
  Parts p;
  p.tensors = [](Bytes& f) { f.str("w").u32(2).u64(4).u64(2).u32(0).u64(4); };
  expect_refused(p, {"tensor 'w'", "offset 4 is not a multiple of the alignment 32"});
  p.tensors = [](Bytes& f) { f.str("w").u32(2).u64(4).u64(3).u32(0).u64(0); };
  expect_refused(p, {"tensor 'w'", "48 bytes runs past the end", "holds 32 bytes"});
  p.tensors = [](Bytes& f) { f.str("w").u32(1).u64(1).u32(0).u64(uint64_t(-32)); };
  expect_refused(p, {"tensor 'w'", "runs past the end"});
  p.data_bytes = 0;
  p.tensors = [](Bytes& f) { f.str("w").u32(1).u64(1).u32(0).u64(0); };
  expect_refused(p, {"tensor 'w'", "runs past the end"});
}

TEST(GGUFErrors, EveryTruncationIsRefused) {
  GGUFWriter w;
  w.set("general.architecture", GGUFValue::str("llama"));
  w.set("a.list", GGUFValue::strings({"x", "yz"}));
  w.set("a.nums", GGUFValue::f32s({1, 2, 3}));
  w.add_tensor("q", Tensor::zeros({1, 32}, DType::Q8_0));
  w.add_tensor("f", Tensor::zeros({8}, DType::F32));  // 32 bytes: the file ends with data
  std::string path = testing::temp_path("trunc");
  w.write(path);
  std::vector<uint8_t> full = testing::read_bytes(path);
  std::filesystem::remove(path);
  GGUFReader::from_memory(std::make_shared<const std::vector<uint8_t>>(full));
  for (size_t n = 0; n < full.size(); ++n) {
    auto cut = std::make_shared<const std::vector<uint8_t>>(full.begin(), full.begin() + n);
    EXPECT_THROW(GGUFReader::from_memory(cut), Error) << "prefix of " << n << " bytes";
  }
}

TEST(GGUFErrors, OpeningAMissingFileNamesIt) {
  expect_error([] { GGUFReader r("/nonexistent/dir/model.gguf"); },
               {"/nonexistent/dir/model.gguf"});
}

TEST(GGUFErrors, WriterRefusesWhatLlamaCppCannotRead) {
  GGUFWriter w;
  expect_error([&] { w.add_tensor("z", Tensor::zeros({0, 4})); }, {"'z'", "zero dimension"});
  expect_error([&] { w.add_tensor(std::string(64, 'n'), Tensor::zeros({4})); },
               {"name of 64 bytes", "1 to 63"});
  expect_error([&] { w.add_tensor("r5", Tensor::zeros({1, 1, 1, 1, 2})); }, {"'r5'", "rank 5"});
  expect_error([&] { w.add_tensor("u", Tensor::zeros({4}, DType::U8)); }, {"u8"});
  expect_error(
      [&] {
        w.add_tensor("q", Tensor::zeros({64, 16}, DType::Q8_0));
      },
      {"'q'", "rows of 16", "block size 32"});
  w.add_tensor("t", Tensor::zeros({4}));
  expect_error([&] { w.add_tensor("t", Tensor::zeros({4})); }, {"'t'", "already added"});
  expect_error([&] { w.set("general.alignment", GGUFValue::u64(32)); }, {"must be a u32"});
  expect_error([&] { w.set("general.alignment", GGUFValue::u32(24)); }, {"24", "power of two"});
  expect_error([&] { w.set("", GGUFValue::u32(1)); }, {"empty metadata key"});
}

}  // namespace
}  // namespace kiln::io
