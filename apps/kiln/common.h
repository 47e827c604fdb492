// common: what the kiln subcommands share — global options, exit codes, error kinds, and opening
// the runtime, a graph file and a device.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kiln/kiln.hpp"

namespace kiln::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // a runtime or file error
inline constexpr int kExitUsage = 2;    // a bad or missing flag, or a bad flag value

// A flag's value is wrong (exit code 2). Other exceptions mean exit code 1.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct GlobalOptions {
  std::string log_level;             // "" = KILN_LOG_LEVEL, else warn
  std::vector<std::string> plugins;  // --plugin, in order
};

// Applies --log-level (or the CLI's default, warn, unless KILN_LOG_LEVEL is set).
void apply_log_level(const GlobalOptions& global);

// A runtime that discovers the installed plugins and loads every --plugin. A --plugin that fails
// to load is an error, unless `failures` is given: then it is appended there (path, message).
Runtime open_runtime(const GlobalOptions& global, std::vector<PluginLoadError>* failures = nullptr);

// Loads a .kiln file; errors name the file.
Graph load_graph_file(const std::string& path);

struct DeviceChoice {
  Device device;
  std::string spec;    // "cpu:0", "gpu:0"
  std::string reason;  // why this device, when it was not requested
};
// `requested` "" picks gpu:0 when the runtime has an accelerator device, else cpu.
DeviceChoice choose_device(Runtime& runtime, const std::string& requested);

// Splits "NAME=VALUE" given to `flag`; a UsageError when it is not of that form.
std::pair<std::string, std::string> split_assignment(const std::string& text,
                                                     const std::string& flag);

}  // namespace kiln::cli
