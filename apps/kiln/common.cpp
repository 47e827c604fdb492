// common: runtime, graph and device set-up shared by the subcommands.
#include "common.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace kiln::cli {

void apply_log_level(const GlobalOptions& global) {
  static const char* const kLevels[] = {"trace", "debug",    "info", "warn",
                                        "error", "critical", "off"};
  if (global.log_level.empty()) {
    if (std::getenv("KILN_LOG_LEVEL") == nullptr) set_log_level(KILN_LOG_WARN);
    return;
  }
  for (int32_t level = 0; level < static_cast<int32_t>(std::size(kLevels)); ++level) {
    if (global.log_level == kLevels[level]) set_log_level(level);
  }
}

Runtime open_runtime(const GlobalOptions& global, std::vector<PluginLoadError>* failures) {
  Runtime runtime;
  for (const std::string& path : global.plugins) {
    try {
      runtime.load_plugin(path);
    } catch (const Error& e) {
      if (failures == nullptr) throw std::runtime_error("--plugin " + path + ": " + e.what());
      failures->push_back({path, e.what()});
    }
  }
  return runtime;
}

Graph load_graph_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) throw std::runtime_error("cannot open '" + path + "': a directory");
  try {
    return Graph::load(path);
  } catch (const Error& e) {
    const std::string message = e.what();
    // The core's messages usually name the file already; never say it twice.
    if (message.find(path) != std::string::npos) throw std::runtime_error(message);
    throw std::runtime_error("cannot load graph '" + path + "': " + message);
  }
}

DeviceChoice choose_device(Runtime& runtime, const std::string& requested) {
  DeviceChoice choice;
  if (requested.empty()) {
    for (const Device& device : runtime.devices()) {
      if (!device.is_host()) {
        choice.device = device;
        choice.reason = "default: the first accelerator";
        break;
      }
    }
    if (!choice.device) {
      choice.device = runtime.find_device("cpu");
      choice.reason = "default: no accelerator device found";
    }
  } else {
    try {
      choice.device = runtime.find_device(requested);
    } catch (const Error& e) {
      const std::string message = e.what();
      if (message.find(requested) != std::string::npos) throw std::runtime_error(message);
      throw std::runtime_error("device '" + requested + "': " + message);
    }
  }
  choice.spec = choice.device.spec();
  return choice;
}

std::pair<std::string, std::string> split_assignment(const std::string& text,
                                                     const std::string& flag) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw UsageError(flag + " " + text + ": expected NAME=VALUE");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace kiln::cli
