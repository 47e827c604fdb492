// kiln plugins: the loaded plugins, the devices they provide, and every plugin that failed.
// kiln plugins --check PATH: one plugin described before trusting it (runtime/plugin_check.h).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "format.h"

namespace kiln::cli {
namespace {

struct PluginsOptions {
  bool json = false;
  std::string check;  // --check PATH
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
      table.add_row({p.name, p.version, "ABI " + format_abi(p.abi_version),
                     "api " + (p.device_api.empty() ? std::string("-") : p.device_api),
                     devices_text, count(p.num_kernels, "kernel") + ", " + count(p.num_ops, "op"),
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

std::string text_of(const nlohmann::ordered_json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// `kiln plugins --check PATH`: exit 0 when the plugin loads and nothing is wrong, else 1.
int run_check(const GlobalOptions& global, const PluginsOptions& options) {
  Runtime runtime = open_runtime(global);
  char* text = nullptr;
  detail::check(kiln_runtime_check_plugin(runtime.get(), options.check.c_str(), &text));
  const std::string json_text = text;
  kiln_buffer_destroy(text);
  const nlohmann::ordered_json report = nlohmann::ordered_json::parse(json_text);
  const bool loaded = report.value("loaded", false);
  const auto& problems = report["problems"];
  if (options.json) {
    std::cout << report.dump(2) << '\n';
    return loaded && problems.empty() ? kExitOk : kExitFailure;
  }

  std::cout << "plugin    " << report.value("path", "") << '\n';
  if (report.contains("name")) {
    std::cout << "name      " << text_of(report, "name") << " " << text_of(report, "version")
              << '\n';
    std::cout << "ABI       " << text_of(report, "abi")
              << " (this kiln: " << text_of(report, "host_abi") << ", accepts "
              << text_of(report, "accepted_abi") << ")\n";
    const int64_t score = report.value("score", int64_t{0});
    std::cout << "runs here " << (score > 0 ? "yes" : "no") << " (score " << score
              << (text_of(report, "score_reason").empty() ? ""
                                                          : ": " + text_of(report, "score_reason"))
              << ")\n";
  }
  std::cout << "needs (" << report["needed"].size() << ")\n";
  Table needed;
  for (const auto& lib : report["needed"]) {
    needed.add_row(
        {text_of(lib, "name"), lib.value("found", false) ? text_of(lib, "path") : "NOT FOUND"});
  }
  needed.print(std::cout);
  if (loaded) {
    std::cout << "device APIs (" << report["device_apis"].size() << ")\n";
    Table apis;
    for (const auto& a : report["device_apis"]) {
      const int64_t n = a.value("devices", int64_t{0});
      apis.add_row({text_of(a, "api"), text_of(a, "label"),
                    std::to_string(n) + (n == 1 ? " device" : " devices"), text_of(a, "note")});
    }
    apis.print(std::cout);
    std::cout << "ops (" << report["ops"].size() << ")\n";
    Table ops;
    const auto range = [](int64_t lo, int64_t hi) {
      return lo == hi ? std::to_string(lo)
                      : std::to_string(lo) + ".." + (hi < 0 ? "" : std::to_string(hi));
    };
    for (const auto& o : report["ops"]) {
      ops.add_row(
          {text_of(o, "name"),
           range(o.value("min_inputs", int64_t{0}), o.value("max_inputs", int64_t{-1})) + " in, " +
               range(o.value("min_outputs", int64_t{0}), o.value("max_outputs", int64_t{-1})) +
               " out",
           text_of(o, "doc")});
    }
    ops.print(std::cout);
    std::cout << "kernels (" << report["kernels"].size() << ")\n";
    Table kernels;
    for (const auto& k : report["kernels"]) {
      std::string dtypes;
      for (const auto& d : k["dtypes"])
        dtypes += (dtypes.empty() ? "" : ",") + d.get<std::string>();
      kernels.add_row({text_of(k, "name"), text_of(k, "op"), text_of(k, "device_api"),
                       dtypes.empty() ? "any dtype" : dtypes,
                       "priority " + std::to_string(k.value("priority", int64_t{0})),
                       text_of(k, "note")});
    }
    kernels.print(std::cout);
  }
  if (problems.empty()) {
    std::cout << "no problems found\n";
  } else {
    std::cout << "problems (" << problems.size() << ")\n";
    for (const auto& p : problems) std::cout << "  " << p.get<std::string>() << '\n';
  }
  return loaded && problems.empty() ? kExitOk : kExitFailure;
}

}  // namespace

Command add_plugins_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<PluginsOptions>();
  CLI::App* sub = app.add_subcommand(
      "plugins", "List the loaded plugins, their devices, and the plugins that failed to load");
  sub->add_flag("--json", options->json, "Print JSON");
  sub->add_option("--check", options->check,
                  "Describe one plugin file (ABI, needed libraries, what it registers) and what "
                  "is wrong with it; exit 1 if it does not load or has problems");
  return {sub, [&global, options] {
            return options->check.empty() ? run_plugins(global, *options)
                                          : run_check(global, *options);
          }};
}

}  // namespace kiln::cli
