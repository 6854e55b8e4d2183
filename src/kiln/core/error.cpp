#include "kiln/core/error.h"

namespace kiln {

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace detail {
void check_failed(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "kiln: internal check failed: %s at %s:%d %s\n", expr, file, line,
               msg.c_str());
  std::abort();
}
}  // namespace detail

}  // namespace kiln
