// kiln ops: every op a graph may name (C ABI kiln_get_graph_op_*), grouped by how it runs — core
// ops on plugin kernels, core ops the executor carries out, control flow, effects, buffer ops —
// with the plugins (and device APIs) that have a kernel for each; then, apart, the ops the Python
// package composes from core ops (they never appear in a graph).
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "format.h"

namespace kiln::cli {
namespace {

struct OpsOptions {
  bool json = false;
};

struct Group {
  OpKind kind;
  const char* key;    // the JSON name
  const char* title;  // the text heading
};

constexpr Group kGroups[] = {
    {OpKind::kKernel, "kernel", "core ops run by plugin kernels"},
    {OpKind::kExecutor, "executor", "core ops the executor carries out itself"},
    {OpKind::kControlFlow, "control_flow", "control flow: the executor runs their subgraphs"},
    {OpKind::kEffect, "effect", "effects the executor performs (no outputs)"},
    {OpKind::kBuffer, "buffer", "mutable-buffer ops the executor performs"},
};

// Functions of kiln.graph.ops (bindings/python/kiln/graph/ops) that add other ops to the graph
// rather than an op of their own name, and what they emit. tests/python/test_cli_roundtrip.py
// checks this against the package.
const std::pair<const char*, const char*> kPythonComposed[] = {
    {"chunk", "split"},
    {"outer", "flatten, reshape, mul"},
    {"shape_to_tensor", "constant"},
};

// MAX's custom and inplace_custom are not graph ops of their own: a node of either is named by
// the op a plugin registered, and runs that plugin's kernel (inplace_custom: on buffers in place).
constexpr const char* kCustomDispatch[] = {"custom", "inplace_custom"};

struct KernelSite {
  std::string plugin;
  std::string device_api;
  bool operator<(const KernelSite& o) const {
    return plugin != o.plugin ? plugin < o.plugin : device_api < o.device_api;
  }
};

std::string describe(const std::set<KernelSite>& sites) {
  std::string out;
  for (const KernelSite& s : sites) {
    out += (out.empty() ? "" : ", ") + s.plugin + " (api " + s.device_api + ")";
  }
  return out;
}

int run_ops(const GlobalOptions& global, const OpsOptions& options) {
  Runtime runtime = open_runtime(global);
  std::map<std::string, std::set<KernelSite>> kernels;
  for (const KernelInfo& k : runtime.kernels()) kernels[k.op].insert({k.plugin, k.device_api});
  const std::vector<std::string> names = graph_op_names();
  std::map<OpKind, std::vector<std::string>> by_kind;
  for (const std::string& name : names) by_kind[op_kind(name)].push_back(name);
  // Ops the loaded plugins add (reached through custom / inplace_custom).
  std::vector<std::string> plugin_ops;
  for (const auto& [op, sites] : kernels) {
    if (op_kind(op) == OpKind::kUnknown) plugin_ops.push_back(op);
  }

  if (options.json) {
    nlohmann::ordered_json groups = nlohmann::ordered_json::object();
    nlohmann::ordered_json ops = nlohmann::ordered_json::array();
    for (const Group& g : kGroups) groups[g.key] = by_kind[g.kind].size();
    for (const std::string& name : names) {
      const OpKind kind = op_kind(name);
      const char* key = "unknown";
      for (const Group& g : kGroups)
        if (g.kind == kind) key = g.key;
      nlohmann::ordered_json sites = nlohmann::ordered_json::array();
      for (const KernelSite& s : kernels[name]) {
        sites.push_back({{"plugin", s.plugin}, {"device_api", s.device_api}});
      }
      ops.push_back({{"name", name},
                     {"kind", key},
                     {"executor", kind != OpKind::kKernel},
                     {"kernels", sites}});
    }
    nlohmann::ordered_json composed = nlohmann::ordered_json::array();
    for (const auto& [name, emits] : kPythonComposed) {
      composed.push_back({{"name", name}, {"emits", emits}});
    }
    nlohmann::ordered_json custom = nlohmann::ordered_json::object();
    custom["dispatch_ops"] = kCustomDispatch;
    nlohmann::ordered_json custom_ops = nlohmann::ordered_json::array();
    for (const std::string& op : plugin_ops) {
      nlohmann::ordered_json sites = nlohmann::ordered_json::array();
      for (const KernelSite& s : kernels[op]) {
        sites.push_back({{"plugin", s.plugin}, {"device_api", s.device_api}});
      }
      custom_ops.push_back({{"name", op}, {"kernels", sites}});
    }
    custom["plugin_ops"] = custom_ops;
    std::cout << nlohmann::ordered_json{{"count", names.size()},
                                        {"groups", groups},
                                        {"ops", ops},
                                        {"custom", custom},
                                        {"python_composed", composed}}
                     .dump(2)
              << '\n';
    return kExitOk;
  }

  std::cout << "graph ops (" << names.size() << ")";
  const char* separator = ": ";
  for (const Group& g : kGroups) {
    std::cout << separator << by_kind[g.kind].size() << " " << g.key;
    separator = ", ";
  }
  std::cout << '\n';
  for (const Group& g : kGroups) {
    const std::vector<std::string>& group = by_kind[g.kind];
    if (group.empty()) continue;
    std::cout << '\n' << g.title << " (" << group.size() << ")\n";
    Table table;
    for (const std::string& name : group) {
      const std::set<KernelSite>& sites = kernels[name];
      std::string where;
      if (g.kind == OpKind::kKernel) {
        where = sites.empty() ? "no loaded plugin has a kernel" : describe(sites);
      } else {
        where = "executor";
        if (!sites.empty())
          where += " (plugin kernels, unused by the executor: " + describe(sites) + ")";
      }
      table.add_row({name, where});
    }
    table.print(std::cout);
  }
  std::cout << "\ncustom, inplace_custom: a node named by an op a plugin registers runs that "
               "plugin's kernel; loaded plugins add ("
            << plugin_ops.size() << ")\n";
  if (plugin_ops.empty()) {
    std::cout << "  (none)\n";
  } else {
    Table custom_table;
    for (const std::string& op : plugin_ops) custom_table.add_row({op, describe(kernels[op])});
    custom_table.print(std::cout);
  }
  std::cout << "\ncomposed by the Python package from the ops above, not graph ops ("
            << std::size(kPythonComposed) << ")\n";
  Table table;
  for (const auto& [name, emits] : kPythonComposed)
    table.add_row({name, "python: " + std::string(emits)});
  table.print(std::cout);
  return kExitOk;
}

}  // namespace

Command add_ops_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<OpsOptions>();
  CLI::App* sub = app.add_subcommand(
      "ops", "List every op a graph may use, by how it runs, with the plugins that have kernels");
  sub->add_flag("--json", options->json, "Print JSON");
  return {sub, [&global, options] { return run_ops(global, *options); }};
}

}  // namespace kiln::cli
