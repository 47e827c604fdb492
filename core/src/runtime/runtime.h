// Runtime: the plugins a runtime uses (from the process-wide registry), its devices in order,
// the load errors it met, and its configuration. Shared-owned: sessions, models and tensors keep
// it alive, so C handles may be destroyed in any order.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "kiln/kiln.h"
#include "runtime/runtime_config.h"

namespace kiln {
class Device;
class Runtime;
struct LoadedPlugin;
}  // namespace kiln

// A device as one runtime numbers it. The Device underneath is process-wide; the id is the
// ordinal among this runtime's devices of the same label ("gpu:1" is its second accelerator).
struct kiln_device {
  kiln::Runtime* runtime = nullptr;  // the owner; alive as long as this handle
  kiln::Device* device = nullptr;
  int32_t id = 0;
  std::string spec;  // "cpu:0", "gpu:1"
};

namespace kiln {

struct RuntimeOptions {
  std::vector<std::string> plugin_paths;
  bool discover_plugins = true;
  std::string config_path;  // empty: $KILN_CONFIG, else ./kiln.yaml if present
};

struct LoadError {
  std::string path;
  std::string message;
};

class Runtime : public std::enable_shared_from_this<Runtime> {
 public:
  // Fails only for a bad configuration file; plugins that fail to load are recorded.
  static StatusOr<std::shared_ptr<Runtime>> create(const RuntimeOptions& options);

  // Loads one plugin (already loaded from the same file: no-op). Failures are also recorded.
  Status load_plugin(const std::string& path);

  std::vector<LoadedPlugin*> plugins() const;
  size_t plugin_count() const;
  const LoadedPlugin* plugin(size_t index) const;  // nullptr when out of range
  size_t load_error_count() const;
  const LoadError* load_error(size_t index) const;  // stable address

  size_t device_count() const;
  kiln_device* device(size_t index) const;  // nullptr when out of range
  // "cpu", "cpu:0", "gpu", "gpu:N", "<api>", "<api>:N". NOT_FOUND lists what exists.
  StatusOr<kiln_device*> find_device(const std::string& spec) const;
  // This runtime's handle for a process-wide device (nullptr if not one of its devices).
  kiln_device* handle_of(const Device* device) const;
  kiln_device* host_device() const;  // the first host device, or nullptr
  // "cpu:0 (cpu, AMD EPYC 7B13), gpu:0 (cuda:0, NVIDIA H100)" plus plugins without devices.
  std::string describe_devices() const;

  const RuntimeConfig& config() const { return config_; }

  // Used by discovery (plugin_discovery.cpp) and load_plugin.
  void record_load_error(const std::string& path, const Status& status);
  void add_plugin(LoadedPlugin* plugin);
  // Logs kernels whose op or device API no plugin of this runtime provides.
  void warn_unusable_kernels() const;

 private:
  explicit Runtime(RuntimeConfig config) : config_(std::move(config)) {}
  const kiln_device* find_device_locked(const std::string& spec) const;

  const RuntimeConfig config_;
  mutable std::mutex mutex_;
  std::vector<LoadedPlugin*> plugins_;
  std::deque<kiln_device> handles_;    // stable addresses
  std::vector<kiln_device*> ordered_;  // host devices first, then accelerators
  std::deque<LoadError> load_errors_;
};

}  // namespace kiln
