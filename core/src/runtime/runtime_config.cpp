// kiln.yaml parsing with yaml-cpp; every key and type is checked so a typo is an error, not a
// silently ignored setting.
#include "runtime/runtime_config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/logging.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

constexpr int32_t kMaxThreads = 65536;

Status config_error(const std::string& path, const YAML::Mark& mark, const std::string& reason) {
  std::string where = path;
  if (mark.line >= 0) {
    where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  return invalid_argument("kiln.yaml '" + where + "': " + reason);
}

std::string resolve(const std::string& base_dir, const std::string& entry) {
  fs::path p(entry);
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  return p.lexically_normal().string();
}

// A string or a list of strings.
StatusOr<std::vector<std::string>> string_list(const YAML::Node& node, const std::string& key,
                                               const std::string& path) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) {
    return config_error(path, node.Mark(), "'" + key + "' must be a list of strings");
  }
  for (const YAML::Node& item : node) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      return config_error(path, item.Mark(), "'" + key + "' entries must be non-empty strings");
    }
    out.push_back(item.Scalar());
  }
  return out;
}

StatusOr<int32_t> parse_threads(const YAML::Node& node, const std::string& path) {
  const std::string text = node.IsScalar() ? node.Scalar() : "";
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < 0 || value > kMaxThreads) {
    return config_error(path, node.Mark(),
                        "'threads' must be an integer from 0 (one per core) to " +
                            std::to_string(kMaxThreads) + ", got '" + text + "'");
  }
  return static_cast<int32_t>(value);
}

}  // namespace

StatusOr<RuntimeConfig> parse_runtime_config(const std::string& text, const std::string& path) {
  RuntimeConfig config;
  config.path = path;
  const std::string base_dir = fs::path(path).parent_path().string();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return config_error(path, e.mark, e.msg);
  }
  if (root.IsNull()) return config;  // an empty file
  if (!root.IsMap()) return config_error(path, root.Mark(), "the top level must be a mapping");

  for (const auto& entry : root) {
    const YAML::Node& key_node = entry.first;
    const YAML::Node& value = entry.second;
    const std::string key = key_node.IsScalar() ? key_node.Scalar() : "";
    if (key == "plugins" || key == "plugin_paths" || key == "devices") {
      KILN_ASSIGN_OR_RETURN(std::vector<std::string> list, string_list(value, key, path));
      if (key == "devices") {
        config.devices = std::move(list);
      } else {
        auto& target = key == "plugins" ? config.plugins : config.plugin_paths;
        for (const std::string& item : list) target.push_back(resolve(base_dir, item));
      }
    } else if (key == "log_level") {
      const int32_t level = value.IsScalar() ? parse_log_level(value.Scalar()) : -1;
      if (level < 0) {
        return config_error(path, value.Mark(),
                            "'log_level' must be one of trace, debug, info, warn, error, "
                            "critical, off");
      }
      config.log_level = level;
    } else if (key == "threads") {
      KILN_ASSIGN_OR_RETURN(config.threads, parse_threads(value, path));
    } else {
      return config_error(
          path, key_node.Mark(),
          "unknown key '" + key + "' (known: plugins, plugin_paths, log_level, threads, devices)");
    }
  }
  return config;
}

StatusOr<RuntimeConfig> load_runtime_config(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return not_found("kiln.yaml '" + path + "' does not exist or is not a file");
  }
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return not_found("kiln.yaml '" + path + "' cannot be read: " + ec.message());
  if (size > kMaxConfigBytes) {
    return invalid_argument("kiln.yaml '" + path + "' is " + std::to_string(size) +
                            " bytes, over the limit of " + std::to_string(kMaxConfigBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("kiln.yaml '" + path + "' cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_runtime_config(text.str(), path);
}

StatusOr<RuntimeConfig> find_runtime_config(const std::string& explicit_path) {
  if (!explicit_path.empty()) return load_runtime_config(explicit_path);
  const char* env = std::getenv("KILN_CONFIG");
  if (env != nullptr && *env != '\0') {
    auto config = load_runtime_config(env);
    if (!config.is_ok()) return config.status().with_context("$KILN_CONFIG");
    return config;
  }
  std::error_code ec;
  if (fs::is_regular_file("kiln.yaml", ec)) {
    return load_runtime_config(fs::absolute("kiln.yaml", ec).string());
  }
  return RuntimeConfig{};
}

}  // namespace kiln
