// Plugin discovery and the choice among several builds of one plugin.
#include "runtime/plugin_discovery.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "base/logging.h"
#include "runtime/plugin_loader.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// Folders are listed up to this many entries; a plugin folder is small.
constexpr size_t kMaxFolderEntries = 10000;

bool is_plugin_file_name(const fs::path& p) { return p.extension() == ".so"; }

// The *.so files of a folder, sorted by name so the order does not depend on the file system.
std::vector<std::string> list_plugin_files(const fs::path& folder) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::directory_iterator it(folder, ec), end;
  size_t seen = 0;
  for (; !ec && it != end && seen < kMaxFolderEntries; it.increment(ec), ++seen) {
    std::error_code file_ec;
    if (is_plugin_file_name(it->path()) && fs::is_regular_file(it->path(), file_ec)) {
      files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

void add_entry(const std::string& entry, const std::string& origin,
               std::vector<PluginCandidate>* out, std::vector<LoadError>* problems) {
  std::error_code ec;
  if (fs::is_directory(entry, ec)) {
    for (std::string& file : list_plugin_files(entry)) out->push_back({std::move(file), origin});
  } else if (fs::exists(entry, ec)) {
    out->push_back({entry, origin});
  } else {
    problems->push_back({entry, origin + " names '" + entry + "', which does not exist"});
  }
}

std::vector<std::string> split_path_list(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t colon = text.find(':', start);
    if (colon == std::string::npos) colon = text.size();
    if (colon > start) parts.push_back(text.substr(start, colon - start));
    start = colon + 1;
  }
  return parts;
}

Status with_origin(const Status& s, const std::string& origin) {
  return Status(s.code(), s.message() + " [found via " + origin + "]");
}

}  // namespace

std::string default_plugin_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&default_plugin_folder), &info) == 0 ||
      info.dli_fname == nullptr) {
    return "";
  }
  std::error_code ec;
  fs::path library = fs::canonical(info.dli_fname, ec);
  if (ec) return "";
  return (library.parent_path() / "kiln" / "plugins").string();
}

std::vector<PluginCandidate> collect_plugin_candidates(const RuntimeOptions& options,
                                                       const RuntimeConfig& config,
                                                       std::vector<LoadError>* problems) {
  std::vector<PluginCandidate> out;
  for (const std::string& path : options.plugin_paths) add_entry(path, "explicit", &out, problems);
  if (!options.discover_plugins) return out;

  if (const char* env = std::getenv("KILN_PLUGIN_PATH")) {
    for (const std::string& entry : split_path_list(env)) {
      add_entry(entry, "KILN_PLUGIN_PATH", &out, problems);
    }
  }
  const std::string yaml = "kiln.yaml '" + config.path + "'";
  for (const std::string& file : config.plugins) add_entry(file, yaml + " plugins", &out, problems);
  for (const std::string& folder : config.plugin_paths) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
      problems->push_back(
          {folder, yaml + " plugin_paths names '" + folder + "', which is not an existing folder"});
      continue;
    }
    for (std::string& file : list_plugin_files(folder)) out.push_back({std::move(file), yaml});
  }
  const std::string folder = default_plugin_folder();
  std::error_code ec;
  if (!folder.empty() && fs::is_directory(folder, ec)) {
    for (std::string& file : list_plugin_files(folder)) out.push_back({std::move(file), folder});
  } else {
    log_message(KILN_LOG_DEBUG, "no default plugin folder ('" + folder + "')");
  }
  return out;
}

void load_discovered_plugins(Runtime& runtime, const std::vector<PluginCandidate>& candidates) {
  // Probe each distinct file once.
  std::vector<std::pair<ProbedPlugin, std::string>> probes;  // with origin
  std::set<std::string> seen;
  for (const PluginCandidate& c : candidates) {
    auto probe = probe_plugin(c.path);
    if (!probe.is_ok()) {
      runtime.record_load_error(c.path, with_origin(probe.status(), c.origin));
      continue;
    }
    if (!seen.insert(probe->path).second) continue;
    probes.emplace_back(std::move(probe).value(), c.origin);
  }

  // Choose one build per plugin name, keeping the order in which names were first found.
  std::vector<std::string> names;
  std::map<std::string, std::vector<const std::pair<ProbedPlugin, std::string>*>> by_name;
  for (const auto& p : probes) {
    auto& group = by_name[p.first.name];
    if (group.empty()) names.push_back(p.first.name);
    group.push_back(&p);
  }
  for (const std::string& name : names) {
    const auto& group = by_name[name];
    const std::pair<ProbedPlugin, std::string>* winner = nullptr;
    for (const auto* p : group) {
      // The build this process already runs always wins: a name can be loaded only once.
      if (p->first.loaded != nullptr) winner = p;
    }
    if (winner == nullptr) {
      for (const auto* p : group) {
        if (p->first.score > 0 && (winner == nullptr || p->first.score > winner->first.score)) {
          winner = p;
        }
      }
    }
    for (const auto* p : group) {
      if (p == winner) continue;
      const ProbedPlugin& probe = p->first;
      const std::string reason = probe.score_reason.empty() ? "" : ": " + probe.score_reason;
      if (winner == nullptr) {
        runtime.record_load_error(
            probe.path, failed_precondition("cannot load plugin '" + probe.path + "': plugin '" +
                                            name + "' cannot run on this machine (score " +
                                            std::to_string(probe.score) + ")" + reason));
      } else {
        log_message(KILN_LOG_INFO, "plugin '" + name + "': not using '" + probe.path + "' (score " +
                                       std::to_string(probe.score) + reason + ") but '" +
                                       winner->first.path + "' (score " +
                                       std::to_string(winner->first.score) + ")");
      }
    }
    if (winner == nullptr) continue;
    auto loaded = initialize_plugin(winner->first);
    if (!loaded.is_ok()) {
      runtime.record_load_error(winner->first.path, with_origin(loaded.status(), winner->second));
      continue;
    }
    runtime.add_plugin(*loaded);
  }
  runtime.warn_unusable_kernels();
}

}  // namespace kiln
