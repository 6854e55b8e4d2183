// PNG encoding with zlib. Every row uses filter "None" preceded by its filter byte; charts are
// mostly flat colour, which deflate compresses well without per-row filter search.
#include "kiln/io/png.h"

#include <zlib.h>

#include "kiln/core/error.h"
#include "kiln/io/mmap.h"

namespace kiln::io {
namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
}

void chunk(std::vector<uint8_t>& out, const char type[4], const std::vector<uint8_t>& data) {
  put_u32(out, uint32_t(data.size()));
  size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  // The CRC covers the type and the data, not the length.
  uLong crc = crc32(0L, out.data() + start, uInt(out.size() - start));
  put_u32(out, uint32_t(crc));
}

}  // namespace

std::vector<uint8_t> encode_png(int width, int height, const std::vector<uint8_t>& rgb) {
  KILN_REQUIRE(width > 0 && height > 0, "png: found size ", width, "x", height,
               ", expected positive");
  size_t row = size_t(width) * 3;
  KILN_REQUIRE(rgb.size() == row * size_t(height), "png: found ", rgb.size(),
               " bytes of pixels, expected ", row * size_t(height));
  std::vector<uint8_t> raw;
  raw.reserve((row + 1) * size_t(height));
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: None
    raw.insert(raw.end(), rgb.begin() + ptrdiff_t(row * size_t(y)),
               rgb.begin() + ptrdiff_t(row * size_t(y + 1)));
  }
  uLongf zlen = compressBound(uLong(raw.size()));
  std::vector<uint8_t> z(zlen);
  KILN_REQUIRE(compress2(z.data(), &zlen, raw.data(), uLong(raw.size()), 6) == Z_OK,
               "png: zlib compression failed");
  z.resize(zlen);

  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32(ihdr, uint32_t(width));
  put_u32(ihdr, uint32_t(height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit, truecolour, deflate, no filter/interlace
  chunk(out, "IHDR", ihdr);
  chunk(out, "IDAT", z);
  chunk(out, "IEND", {});
  return out;
}

void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb) {
  std::vector<uint8_t> bytes = encode_png(width, height, rgb);
  write_atomically(path, [&](std::FILE* f) {
    KILN_REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size(), path,
                 ": write failed");
  });
}

}  // namespace kiln::io
