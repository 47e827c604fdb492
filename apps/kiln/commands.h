// commands: the kiln subcommands. Each registers its flags on the app and returns the action to
// run once parsing succeeded; the action returns the exit code or throws (common.h: exit codes).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "common.h"

namespace kiln::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_plugins_command(CLI::App& app, const GlobalOptions& global);
Command add_conformance_command(CLI::App& app, const GlobalOptions& global);
Command add_inspect_command(CLI::App& app, const GlobalOptions& global);
Command add_run_command(CLI::App& app, const GlobalOptions& global);
Command add_bench_command(CLI::App& app, const GlobalOptions& global);
Command add_ops_command(CLI::App& app, const GlobalOptions& global);

}  // namespace kiln::cli
