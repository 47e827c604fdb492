// kiln.yaml: plugin files and folders, log level, default threads and devices. Relative paths
// resolve against the file's folder. Malformed files are errors naming the file, line and reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kiln {

struct RuntimeConfig {
  std::string path;                       // the file read; empty when there was none
  std::vector<std::string> plugins;       // `plugins:` files, resolved
  std::vector<std::string> plugin_paths;  // `plugin_paths:` folders, resolved
  std::optional<int32_t> log_level;       // `log_level:` (trace ... off)
  std::optional<int32_t> threads;         // `threads:` (0 = one per core)
  std::vector<std::string> devices;       // `devices:` device specs for sessions
};

// Files larger than this are refused before they are read.
inline constexpr uint64_t kMaxConfigBytes = 1 << 20;

// Parses kiln.yaml text; `path` names it in messages and its folder resolves relative paths.
StatusOr<RuntimeConfig> parse_runtime_config(const std::string& text, const std::string& path);
StatusOr<RuntimeConfig> load_runtime_config(const std::string& path);
// The configuration a runtime uses: `explicit_path` if not empty (must exist), else $KILN_CONFIG
// if set (must exist), else ./kiln.yaml if it exists, else an empty configuration.
StatusOr<RuntimeConfig> find_runtime_config(const std::string& explicit_path);

}  // namespace kiln
