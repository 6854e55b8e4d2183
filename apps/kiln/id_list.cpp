#include "id_list.h"

#include <sstream>

#include "kiln/core/error.h"

namespace kiln::app {

std::vector<int64_t> parse_id_list(const std::string& s, const std::string& what,
                                   size_t min_count) {
  std::string t = s;
  for (char& c : t)
    if (c == ',' || c == '[' || c == ']') c = ' ';
  std::istringstream in(t);
  std::vector<int64_t> ids;
  for (std::string word; in >> word;) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    KILN_REQUIRE(used == word.size(), what, ": found \"", word,
                 "\", expected token ids like 1,2,3");
    ids.push_back(v);
  }
  KILN_REQUIRE(ids.size() >= min_count, what, ": found ", ids.size(),
               " token ids, expected at least ", min_count);
  return ids;
}

}  // namespace kiln::app
