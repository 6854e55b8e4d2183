#include "kiln/data/shards.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "kiln/core/error.h"
#include "kiln/core/progress.h"

namespace kiln::data {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  KILN_REQUIRE(f, "data: cannot read input '", path, "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Calls fn(document) for each document of each input.
void for_each_document(const PrepareOptions& o, const std::function<void(std::string_view)>& fn,
                       Progress& bar, int64_t& bytes_done) {
  for (const std::string& path : o.inputs) {
    std::string text = read_file(path);
    if (!ends_with(path, ".jsonl")) {
      fn(text);
      bytes_done += int64_t(text.size());
      bar.update(bytes_done);
      continue;
    }
    std::istringstream lines(text);
    std::string line;
    for (int64_t no = 1; std::getline(lines, line); ++no) {
      bytes_done += int64_t(line.size()) + 1;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      json j;
      try {
        j = json::parse(line);
      } catch (const json::exception& e) {
        throw Error(str("data: '", path, "' line ", no, " is not valid JSON: ", e.what()));
      }
      KILN_REQUIRE(j.is_object() && j.contains(o.jsonl_field) && j[o.jsonl_field].is_string(),
                   "data: '", path, "' line ", no, " has no string field '", o.jsonl_field, "'");
      fn(j[o.jsonl_field].get<std::string>());
      bar.update(bytes_done);
    }
  }
}

void write_tokens(const std::string& path, const std::vector<int32_t>& ids, bool wide) {
  io::write_atomically(path, [&](std::FILE* f) {
    if (wide) {
      std::vector<uint32_t> v(ids.begin(), ids.end());
      KILN_REQUIRE(v.empty() || std::fwrite(v.data(), 4, v.size(), f) == v.size(), "cannot write ",
                   path);
    } else {
      std::vector<uint16_t> v(ids.begin(), ids.end());
      KILN_REQUIRE(v.empty() || std::fwrite(v.data(), 2, v.size(), f) == v.size(), "cannot write ",
                   path);
    }
  });
}

}  // namespace

PrepareStats prepare_shards(const PrepareOptions& o, const Encoder& encode) {
  KILN_REQUIRE(!o.inputs.empty(), "data prepare: no input files");
  KILN_REQUIRE(o.vocab_size > 0, "data prepare: vocab_size must be positive");
  KILN_REQUIRE(o.val_fraction >= 0 && o.val_fraction < 1,
               "data prepare: val_fraction must be in [0, 1), got ", o.val_fraction);
  int64_t total_bytes = 0;
  for (const std::string& p : o.inputs) {
    KILN_REQUIRE(fs::is_regular_file(p), "data prepare: input '", p, "' does not exist");
    total_bytes += int64_t(fs::file_size(p));
  }
  fs::create_directories(o.out_dir);
  PrepareStats st;
  std::vector<int32_t> ids;
  Progress bar("tokenizing", total_bytes, "B");
  for_each_document(
      o,
      [&](std::string_view doc) {
        std::vector<int32_t> t = encode(doc);
        for (int32_t id : t)
          KILN_REQUIRE(id >= 0 && id < o.vocab_size, "data prepare: token id ", id,
                       " outside the vocabulary of ", o.vocab_size);
        ids.insert(ids.end(), t.begin(), t.end());
        if (o.eos_id >= 0) ids.push_back(o.eos_id);
        ++st.documents;
      },
      bar, st.bytes);
  if (o.progress) bar.finish();
  int64_t n_val = int64_t(double(ids.size()) * o.val_fraction);
  int64_t n_train = int64_t(ids.size()) - n_val;
  KILN_REQUIRE(n_train > 1, "data prepare: the corpus gave only ", ids.size(), " tokens");
  bool wide = o.vocab_size > 65536;
  write_tokens((fs::path(o.out_dir) / "train.bin").string(),
               std::vector<int32_t>(ids.begin(), ids.begin() + n_train), wide);
  write_tokens((fs::path(o.out_dir) / "val.bin").string(),
               std::vector<int32_t>(ids.begin() + n_train, ids.end()), wide);
  json meta = {{"format", "kiln-tokens-v1"},  {"vocab_size", o.vocab_size},
               {"token_bytes", wide ? 4 : 2}, {"eos_id", o.eos_id},
               {"documents", st.documents},   {"train_tokens", n_train},
               {"val_tokens", n_val}};
  std::string text = meta.dump(2);
  io::write_atomically((fs::path(o.out_dir) / "meta.json").string(),
                       [&](std::FILE* f) { std::fwrite(text.data(), 1, text.size(), f); });
  st.train_tokens = n_train;
  st.val_tokens = n_val;
  return st;
}

TokenShard::TokenShard(const std::string& dir, const std::string& split) {
  KILN_REQUIRE(split == "train" || split == "val", "data: unknown split '", split,
               "' (expected train or val)");
  std::string meta_path = (fs::path(dir) / "meta.json").string();
  json meta;
  try {
    meta = json::parse(read_file(meta_path));
  } catch (const json::exception& e) {
    throw Error(str("data: '", meta_path, "' is not valid JSON: ", e.what()));
  }
  KILN_REQUIRE(meta.value("format", "") == "kiln-tokens-v1", "data: '", meta_path,
               "' is not a kiln token shard description (format must be kiln-tokens-v1)");
  vocab_ = meta.at("vocab_size").get<int64_t>();
  eos_ = meta.at("eos_id").get<int32_t>();
  int bytes = meta.at("token_bytes").get<int>();
  KILN_REQUIRE(bytes == 2 || bytes == 4, "data: '", meta_path, "': token_bytes must be 2 or 4");
  wide_ = bytes == 4;
  file_ = io::MappedFile::open((fs::path(dir) / (split + ".bin")).string());
  KILN_REQUIRE(file_->size() % size_t(bytes) == 0, "data: '", file_->path(), "' has ",
               file_->size(), " bytes, not a whole number of ", bytes, "-byte tokens");
  n_ = int64_t(file_->size()) / bytes;
  int64_t expect = meta.at(split + "_tokens").get<int64_t>();
  KILN_REQUIRE(n_ == expect, "data: '", file_->path(), "' holds ", n_, " tokens, meta.json says ",
               expect);
}

}  // namespace kiln::data
