#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <set>

#include "kiln/data/loader.h"

namespace kiln::data {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() : path(fs::temp_directory_path() / ("kiln_data_" + std::to_string(::getpid()))) {
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Bytes as tokens: a stand-in tokenizer that makes expected ids obvious.
std::vector<int32_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

void write(const fs::path& p, const std::string& s) {
  std::ofstream(p) << s;
}

TEST(Shards, PrepareSplitsAndSeparatesDocuments) {
  TempDir d;
  write(d.path / "a.jsonl", "{\"text\": \"abc\"}\n\n{\"text\": \"de\"}\n");
  write(d.path / "b.txt", "fghij");
  PrepareOptions o{.inputs = {(d.path / "a.jsonl").string(), (d.path / "b.txt").string()},
                   .out_dir = (d.path / "out").string(),
                   .val_fraction = 0.25,
                   .vocab_size = 256,
                   .eos_id = 0,
                   .progress = false};
  PrepareStats st = prepare_shards(o, bytes);
  EXPECT_EQ(st.documents, 3);
  // a b c EOS d e EOS f g h i j EOS = 13 tokens; 3 go to validation
  EXPECT_EQ(st.train_tokens, 10);
  EXPECT_EQ(st.val_tokens, 3);
  TokenShard train((d.path / "out").string(), "train"), val((d.path / "out").string(), "val");
  std::string got;
  for (int64_t i = 0; i < train.size(); ++i) got += char(train.at(i) ? train.at(i) : '|');
  EXPECT_EQ(got, "abc|de|fgh");
  EXPECT_EQ(val.at(2), 0);
}

TEST(Shards, BadInputsNameTheProblem) {
  TempDir d;
  write(d.path / "bad.jsonl", "{\"text\": \"ok\"}\n{\"body\": 1}\n");
  PrepareOptions o{.inputs = {(d.path / "bad.jsonl").string()},
                   .out_dir = (d.path / "out").string(),
                   .vocab_size = 256,
                   .progress = false};
  try {
    prepare_shards(o, bytes);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  o.inputs = {(d.path / "missing.txt").string()};
  EXPECT_THROW(prepare_shards(o, bytes), Error);
  EXPECT_FALSE(fs::exists(d.path / "out" / "meta.json"));  // nothing half-written
}

TEST(Loader, ShuffledEpochCoversEveryWindowAndResumesExactly) {
  TempDir d;
  std::string text;
  for (int i = 0; i < 200; ++i) text += char('a' + i % 26);
  write(d.path / "c.txt", text);
  PrepareOptions o{.inputs = {(d.path / "c.txt").string()},
                   .out_dir = (d.path / "out").string(),
                   .val_fraction = 0.0,
                   .vocab_size = 256,
                   .eos_id = 1,
                   .progress = false};
  prepare_shards(o, bytes);
  TokenShard shard((d.path / "out").string(), "train");
  TokenLoader a(shard, 2, 8, 42, true);
  ASSERT_EQ(a.windows_per_epoch(), 200 / 8);  // (201 - 1) / 8
  std::multiset<int64_t> epoch_tokens, stream_tokens;
  for (int64_t i = 0; i < a.windows_per_epoch() * 8; ++i) stream_tokens.insert(shard.at(i));
  std::vector<std::vector<int64_t>> seen;
  for (int i = 0; i < 30; ++i) {
    Batch b = a.next();
    auto in = b.inputs.to_vector<int64_t>(), tg = b.targets.to_vector<int64_t>();
    for (int r = 0; r < 2; ++r) {
      for (int t = 0; t + 1 < 8; ++t) EXPECT_EQ(tg[size_t(r * 8 + t)], in[size_t(r * 8 + t + 1)]);
      if (i * 2 + r < a.windows_per_epoch())
        epoch_tokens.insert(in.begin() + r * 8, in.begin() + r * 8 + 8);
    }
    seen.push_back(in);
  }
  EXPECT_EQ(epoch_tokens, stream_tokens);  // one epoch visits every window once
  // Resume from a saved position reproduces the same batches.
  TokenLoader b(shard, 2, 8, 42, true);
  for (int i = 0; i < 10; ++i) b.next();
  LoaderPosition p = b.position();
  TokenLoader c(shard, 2, 8, 42, true);
  c.seek(p);
  for (int i = 10; i < 30; ++i) EXPECT_EQ(c.next().inputs.to_vector<int64_t>(), seen[size_t(i)]);
}

TEST(Loader, DocumentMaskBlocksAttentionAcrossEos) {
  TempDir d;
  write(d.path / "x.jsonl", "{\"text\": \"ab\"}\n{\"text\": \"cde\"}\n{\"text\": \"fgh\"}\n");
  PrepareOptions o{.inputs = {(d.path / "x.jsonl").string()},
                   .out_dir = (d.path / "out").string(),
                   .val_fraction = 0.0,
                   .vocab_size = 256,
                   .eos_id = 0,
                   .progress = false};
  prepare_shards(o, bytes);
  TokenShard shard((d.path / "out").string(), "train");
  TokenLoader l(shard, 1, 6, 0, false, true);
  Batch b = l.next();  // a b EOS c d e
  EXPECT_EQ(b.positions.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
  auto m = b.doc_mask.to_vector<uint8_t>();
  EXPECT_EQ(m[size_t(4 * 6 + 1)], 1);  // 'd' may not see 'b'
  EXPECT_EQ(m[size_t(4 * 6 + 3)], 0);  // 'd' sees 'c'
  EXPECT_EQ(m[size_t(2 * 6 + 0)], 0);  // EOS belongs to the document it ends
}

}  // namespace
}  // namespace kiln::data
