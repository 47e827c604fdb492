// kiln: the command line tool — plugins, inspect, run, bench.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <vector>

#include "commands.h"
#include "common.h"
#include "kiln/kiln.hpp"
#include "kiln/kiln_plugin.h"
#include "npy.h"

namespace {

std::string version_text() {
  const uint32_t abi = kiln::abi_version();
  return "kiln " + kiln::version() + " (C ABI " + std::to_string(abi >> 16) + "." +
         std::to_string(abi & 0xffffu) + ", plugin ABI " + std::to_string(KILN_PLUGIN_ABI_MAJOR) +
         "." + std::to_string(KILN_PLUGIN_ABI_MINOR) + ")";
}

int run_cli(int argc, char** argv) {
  using namespace kiln::cli;
  CLI::App app{"kiln: a graph compiler and runtime for ML inference", "kiln"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text(), "Print the version and exit");
  GlobalOptions global;
  app.add_option("--log-level", global.log_level, "Log level (default: warn, or KILN_LOG_LEVEL)")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--plugin", global.plugins, "Load an extra plugin .so (repeatable)")
      ->type_name("PATH")
      ->allow_extra_args(false);

  std::vector<Command> commands = {add_plugins_command(app, global),
                                   add_inspect_command(app, global), add_run_command(app, global),
                                   add_bench_command(app, global), add_ops_command(app, global),
                                   add_conformance_command(app, global)};
  // Global flags may also follow the subcommand: `kiln run m.kiln --plugin x.so`.
  for (Command& command : commands) {
    command.app->fallthrough();
    command.app->footer("Global flags (--log-level, --plugin) are listed by `kiln --help`.");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports `kiln frob` as "A subcommand is required"; name the word instead.
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && app.get_subcommands().empty() &&
        !app.remaining().empty()) {
      std::cerr << "kiln: error: unknown subcommand '" << app.remaining().front()
                << "' (subcommands: plugins, inspect, run, bench, ops, conformance)\n"
                << "Run with --help for more information.\n";
      return kExitUsage;
    }
    const int code = app.exit(e);  // prints help, the version, or CLI11's message
    return code == 0 ? kExitOk : kExitUsage;
  }

  apply_log_level(global);
  for (Command& command : commands) {
    if (!command.app->parsed()) continue;
    try {
      return command.run();
    } catch (const UsageError& e) {
      std::cerr << "kiln " << command.app->get_name() << ": error: " << e.what() << '\n'
                << "Run with --help for more information.\n";
      return kExitUsage;
    } catch (const std::exception& e) {
      std::cerr << "kiln " << command.app->get_name() << ": error: " << e.what() << '\n';
      return kExitFailure;
    }
  }
  return kExitUsage;  // unreachable: require_subcommand(1)
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_cli(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "kiln: error: " << e.what() << '\n';
  } catch (...) {
    std::cerr << "kiln: error: unknown exception\n";
  }
  return kiln::cli::kExitFailure;
}
