#pragma once
// Each subcommand registers itself with the CLI11 app from its own file, so adding a job means
// adding one cmd_*.cpp and no edit elsewhere.
#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace kiln::app {

using CommandSetup = std::function<void(CLI::App& app)>;
std::vector<CommandSetup>& commands();

struct RegisterCommand {
  explicit RegisterCommand(CommandSetup s) { commands().push_back(std::move(s)); }
};

}  // namespace kiln::app
