#pragma once
// A 5x7 pixel bitmap font for chart labels: digits, upper-case letters (lower case is drawn as
// upper case) and the punctuation numbers and run names use.
#include <array>
#include <cstdint>

namespace kiln::eval {

// Seven rows of the glyph for `c`, bit 4 = leftmost pixel; unknown characters draw as '?'.
const std::array<uint8_t, 7>& glyph5x7(char c);

}  // namespace kiln::eval
