// kiln ops: the core ops libkiln knows (MAX's op set plus kiln's fused ops, named "kiln.*").
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"

namespace kiln::cli {
namespace {

struct OpsOptions {
  bool json = false;
};

int run_ops(const OpsOptions& options) {
  const std::vector<std::string> names = op_names();
  if (options.json) {
    std::cout << nlohmann::ordered_json{{"count", names.size()}, {"ops", names}}.dump(2) << '\n';
    return kExitOk;
  }
  std::cout << "core ops (" << names.size() << ")\n";
  for (const std::string& name : names) std::cout << "  " << name << '\n';
  return kExitOk;
}

}  // namespace

Command add_ops_command(CLI::App& app, const GlobalOptions&) {
  auto options = std::make_shared<OpsOptions>();
  CLI::App* sub = app.add_subcommand("ops", "List the core ops (kiln inspect --kernels: kernels)");
  sub->add_flag("--json", options->json, "Print JSON");
  return {sub, [options] { return run_ops(*options); }};
}

}  // namespace kiln::cli
