#pragma once
// Token ids typed on a command line: "1,2,3", "1 2 3" or "[1, 2, 3]".
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::app {

// Parses the ids; errors name `what` (the flag or command) and the bad entry. Fewer than
// `min_count` ids is an error too.
std::vector<int64_t> parse_id_list(const std::string& s, const std::string& what,
                                   size_t min_count = 1);

}  // namespace kiln::app
