// kiln plugins: the loaded plugins, the devices they provide, and every plugin that failed.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "format.h"

namespace kiln::cli {
namespace {

struct PluginsOptions {
  bool json = false;
};

std::string device_memory(const Device& device) {
  try {
    const kiln_device_stats stats = device.stats();
    return stats.total_memory == 0 ? "unknown" : format_bytes(stats.total_memory);
  } catch (const Error&) {
    return "unknown";
  }
}

int run_plugins(const GlobalOptions& global, const PluginsOptions& options) {
  std::vector<PluginLoadError> requested_failures;  // --plugin paths that failed
  Runtime runtime = open_runtime(global, &requested_failures);
  const std::vector<PluginInfo> plugins = runtime.plugins();
  const std::vector<Device> devices = runtime.devices();
  const std::vector<PluginLoadError> errors = runtime.load_errors();

  if (options.json) {
    nlohmann::ordered_json out;
    out["plugins"] = nlohmann::ordered_json::array();
    for (const PluginInfo& p : plugins) {
      out["plugins"].push_back({{"name", p.name},
                                {"version", p.version},
                                {"path", p.path},
                                {"abi", format_abi(p.abi_version)},
                                {"device_api", p.device_api},
                                {"num_devices", p.num_devices},
                                {"device_note", p.device_note},
                                {"num_kernels", p.num_kernels},
                                {"num_ops", p.num_ops}});
    }
    out["devices"] = nlohmann::ordered_json::array();
    for (const Device& d : devices) {
      nlohmann::ordered_json device = {
          {"spec", d.spec()}, {"api", d.api()}, {"name", d.name()}, {"is_host", d.is_host()}};
      try {
        const kiln_device_stats stats = d.stats();
        device["total_memory"] = stats.total_memory;
        device["free_memory"] = stats.free_memory;
      } catch (const Error&) {
        device["total_memory"] = nullptr;
      }
      out["devices"].push_back(device);
    }
    out["load_errors"] = nlohmann::ordered_json::array();
    for (const PluginLoadError& e : errors) {
      out["load_errors"].push_back({{"path", e.path}, {"message", e.message}});
    }
    std::cout << out.dump(2) << '\n';
  } else {
    std::cout << "plugins (" << plugins.size() << ")\n";
    Table table;
    for (const PluginInfo& p : plugins) {
      const auto count = [](int64_t n, const char* noun) {
        return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
      };
      const std::string devices_text = count(p.num_devices, "device");
      table.add_row(
          {p.name, p.version, "ABI " + format_abi(p.abi_version),
           "api " + (p.device_api.empty() ? std::string("-") : p.device_api), devices_text,
           count(p.num_kernels, "kernel") + ", " + count(p.num_ops, "op"),
           p.path});
    }
    if (table.empty()) std::cout << "  (none)\n";
    table.print(std::cout);
    // Why a plugin has no devices goes on its own line: the reasons are long sentences.
    for (const PluginInfo& p : plugins) {
      if (p.num_devices == 0 && !p.device_note.empty())
        std::cout << "  " << p.name << ": no devices: " << p.device_note << '\n';
    }

    std::cout << "devices (" << devices.size() << ")\n";
    Table device_table;
    for (const Device& d : devices) {
      device_table.add_row({d.spec(), d.api(), d.name(), "memory " + device_memory(d)});
    }
    if (device_table.empty()) std::cout << "  (none)\n";
    device_table.print(std::cout);

    if (!errors.empty()) {
      std::cout << "load errors (" << errors.size() << ")\n";
      for (const PluginLoadError& e : errors)
        std::cout << "  " << e.path << ": " << e.message << '\n';
    }
  }

  // A --plugin that failed makes the command fail, after the listing.
  for (const PluginLoadError& e : requested_failures) {
    std::cerr << "kiln: error: --plugin " << e.path << ": " << e.message << '\n';
  }
  return requested_failures.empty() ? kExitOk : kExitFailure;
}

}  // namespace

Command add_plugins_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<PluginsOptions>();
  CLI::App* sub = app.add_subcommand(
      "plugins", "List the loaded plugins, their devices, and the plugins that failed to load");
  sub->add_flag("--json", options->json, "Print JSON");
  return {sub, [&global, options] { return run_plugins(global, *options); }};
}

}  // namespace kiln::cli
