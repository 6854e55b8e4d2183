#pragma once
// GPT-2's byte-level alphabet: each of the 256 byte values is shown as a printable character
// (bytes that are printable Latin-1 as themselves, the rest as U+0100 onwards in order), so
// vocabularies of byte sequences can be stored as text. " " is "Ġ", "\n" is "Ċ".
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::tokenizer {

char32_t byte_to_char(uint8_t b);
int char_to_byte(char32_t c);  // -1 for a character outside the alphabet

// Raw bytes to their byte-level text.
std::string to_byte_level(std::string_view raw);
// Byte-level text to raw bytes; false (out unspecified) if a character is outside the alphabet.
bool from_byte_level(std::string_view text, std::string& out);

}  // namespace kiln::tokenizer
