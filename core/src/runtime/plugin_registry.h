// PluginRegistry: the process-wide set of initialized plugins and what they registered. A plugin
// is initialized once per process and never unloaded, so every runtime shares these records; a
// runtime only chooses which of them it uses.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/plugin_record.h"

namespace kiln {

class PluginRegistry {
 public:
  static PluginRegistry& instance();

  // Held by whoever reads or changes the maps below (the loader holds it across a whole load,
  // including the plugin's initialize(), so registration needs no lock of its own).
  std::mutex& mutex() { return mutex_; }

  // All under mutex().
  LoadedPlugin* find_by_path(const std::string& canonical_path) const;
  LoadedPlugin* find_by_name(const std::string& name) const;
  const DeviceApiEntry* find_device_api(const std::string& api) const;
  const OpEntry* find_op(const std::string& name) const;
  // A plugin whose initialize() failed is not initialized again in this process.
  const Status* find_failed_init(const std::string& canonical_path) const;
  void record_failed_init(const std::string& canonical_path, const Status& status);
  // Takes the plugin, indexes its device APIs and ops, and arranges for its shutdown() at exit.
  LoadedPlugin* add(std::unique_ptr<LoadedPlugin> plugin);

 private:
  PluginRegistry() = default;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
  std::map<std::string, LoadedPlugin*> by_path_;
  std::map<std::string, LoadedPlugin*> by_name_;
  std::map<std::string, const DeviceApiEntry*> device_apis_;
  std::map<std::string, const OpEntry*> ops_;
  std::map<std::string, Status> failed_init_;
};

// The plugin that registered custom op `op` in this process: sets its name and version and
// returns true, or returns false when no loaded plugin registers it. Saved graphs record this
// (proto OpRequirement), so loading one without the plugin names the plugin that is missing.
bool find_op_provider(const std::string& op, std::string* plugin, std::string* version);

}  // namespace kiln
