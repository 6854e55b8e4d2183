#pragma once
// Errors. kiln::Error is for bad input (a malformed file, a wrong shape passed by a caller, an
// unknown token id): it names what was wrong, what was found and what was expected, and callers may
// catch it and carry on. KILN_CHECK is for programmer errors inside kiln: it aborts with a message.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
[[noreturn]] void check_failed(const char* expr, const char* file, int line,
                               const std::string& msg);
}  // namespace detail

// Builds a message from its arguments with operator<<.
template <class... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

// Formats a shape as [2, 3, 4].
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace kiln

// Throws kiln::Error with the streamed message when cond is false.
#define KILN_REQUIRE(cond, ...)                                 \
  do {                                                          \
    if (!(cond)) throw ::kiln::Error(::kiln::str(__VA_ARGS__)); \
  } while (0)

// Aborts: an internal invariant does not hold. Never for user input.
#define KILN_CHECK(cond, ...)                                                            \
  do {                                                                                   \
    if (!(cond))                                                                         \
      ::kiln::detail::check_failed(#cond, __FILE__, __LINE__, ::kiln::str(__VA_ARGS__)); \
  } while (0)
