#include <cstdio>

#include "command.h"
#include "kiln/core/error.h"
#include "kiln/core/thread_pool.h"

namespace kiln::app {
std::vector<CommandSetup>& commands() {
  static std::vector<CommandSetup> c;
  return c;
}
}  // namespace kiln::app

int main(int argc, char** argv) {
  CLI::App app{"kiln: define, train, evaluate, quantize and serve decoder language models"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "worker threads (default: KILN_THREADS or all cores)");
  app.set_version_flag("--version", "kiln 0.1.0");
  for (auto& setup : kiln::app::commands()) setup(app);
  app.parse_complete_callback([&] { kiln::set_num_threads(threads); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
