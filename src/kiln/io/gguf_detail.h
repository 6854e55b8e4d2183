#pragma once
// Helpers shared by the GGUF reader, writer and value: not part of the public API.
#include <cstddef>

#include "kiln/io/gguf.h"

namespace kiln::io::detail {

// Bytes of one scalar of type t; 0 for STRING and ARRAY.
size_t gguf_scalar_size(GGUFType t);
bool gguf_is_integer(GGUFType t);

}  // namespace kiln::io::detail
