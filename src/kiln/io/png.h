#pragma once
// PNG images of 8-bit RGB pixels, for the charts kiln draws (training curves, inference sweeps).
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::io {

// Encodes rows of width*3 bytes (top row first) as a PNG: IHDR, one zlib IDAT, IEND.
std::vector<uint8_t> encode_png(int width, int height, const std::vector<uint8_t>& rgb);
// encode_png written atomically to `path`.
void write_png(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

}  // namespace kiln::io
