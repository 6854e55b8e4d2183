#pragma once
// Shared by the op tests that check error messages.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "kiln/core/error.h"

namespace kiln {

// Runs f, expecting a kiln::Error whose message contains every one of `parts`.
inline void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const Error& e) {
    std::string msg = e.what();
    for (const std::string& p : parts)
      EXPECT_NE(msg.find(p), std::string::npos) << "message lacks '" << p << "': " << msg;
    return;
  }
  ADD_FAILURE() << "no kiln::Error thrown; expected one mentioning '" << parts[0] << "'";
}

}  // namespace kiln
