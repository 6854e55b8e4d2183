// PNG encoding: the file's structure and CRCs checked here, its pixels decoded by Pillow.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "kiln/core/error.h"
#include "kiln/io/png.h"

namespace kiln::io {
namespace {

uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

std::vector<uint8_t> noise(int w, int h) {
  std::vector<uint8_t> px(size_t(w) * size_t(h) * 3);
  uint32_t s = 12345;
  for (auto& b : px) b = uint8_t((s = s * 1664525u + 1013904223u) >> 24);
  return px;
}

TEST(Png, ChunksHaveValidCrcsAndInflateToTheRows) {
  int w = 7, h = 5;
  std::vector<uint8_t> px = noise(w, h);
  std::vector<uint8_t> f = encode_png(w, h, px);
  ASSERT_GT(f.size(), 8u);
  EXPECT_EQ(std::vector<uint8_t>(f.begin(), f.begin() + 8),
            (std::vector<uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}));
  std::vector<std::string> types;
  std::vector<uint8_t> idat;
  for (size_t at = 8; at < f.size();) {
    uint32_t len = be32(&f[at]);
    ASSERT_LE(at + 12 + len, f.size());
    std::string type(f.begin() + ptrdiff_t(at + 4), f.begin() + ptrdiff_t(at + 8));
    types.push_back(type);
    EXPECT_EQ(crc32(0, &f[at + 4], 4 + len), be32(&f[at + 8 + len])) << type;
    if (type == "IHDR") {
      EXPECT_EQ(be32(&f[at + 8]), uint32_t(w));
      EXPECT_EQ(be32(&f[at + 12]), uint32_t(h));
      EXPECT_EQ(f[at + 16], 8);  // bit depth
      EXPECT_EQ(f[at + 17], 2);  // truecolour
    }
    if (type == "IDAT") idat.insert(idat.end(), &f[at + 8], &f[at + 8 + len]);
    at += 12 + len;
  }
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  std::vector<uint8_t> raw(size_t(h) * (size_t(w) * 3 + 1));
  uLongf n = uLongf(raw.size());
  ASSERT_EQ(uncompress(raw.data(), &n, idat.data(), uLong(idat.size())), Z_OK);
  ASSERT_EQ(n, raw.size());
  for (int y = 0; y < h; ++y) {
    EXPECT_EQ(raw[size_t(y) * (size_t(w) * 3 + 1)], 0) << "filter byte of row " << y;
    for (int i = 0; i < w * 3; ++i)
      ASSERT_EQ(raw[size_t(y) * (size_t(w) * 3 + 1) + 1 + size_t(i)], px[size_t(y * w * 3 + i)]);
  }
}

TEST(Png, PillowDecodesTheSamePixels) {
  int w = 33, h = 17;
  std::vector<uint8_t> px = noise(w, h);
  auto dir = std::filesystem::temp_directory_path() / ("kiln_png_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  write_png((dir / "a.png").string(), w, h, px);
  std::ofstream((dir / "a.bin").string(), std::ios::binary)
      .write(reinterpret_cast<const char*>(px.data()), std::streamsize(px.size()));
  std::string cmd = std::string(KILN_PYTHON) + " " + KILN_PNG_CHECK + " " +
                    (dir / "a.png").string() + " " + (dir / "a.bin").string() + " " +
                    std::to_string(w) + " " + std::to_string(h);
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::filesystem::remove_all(dir);
}

TEST(Png, RejectsWrongPixelCount) {
  EXPECT_THROW(encode_png(4, 4, std::vector<uint8_t>(10)), Error);
  EXPECT_THROW(encode_png(0, 4, {}), Error);
}

}  // namespace
}  // namespace kiln::io
