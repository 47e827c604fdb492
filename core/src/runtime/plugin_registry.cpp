// The process-wide plugin registry, and the at-exit calls of plugins' shutdown().
#include "runtime/plugin_registry.h"

#include <cstdlib>

#include "base/logging.h"
#include "runtime/device.h"

namespace kiln {
namespace {

// shutdown() functions in initialization order. Each initialization registers one atexit
// handler, and handlers run in reverse order of registration, so each call takes the newest:
// plugins shut down in reverse order, after anything they constructed before their handler.
std::mutex g_shutdown_mutex;
std::vector<void (*)(void)>* g_shutdowns = new std::vector<void (*)(void)>;  // never freed

void run_newest_shutdown() {
  void (*fn)(void) = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_shutdown_mutex);
    if (g_shutdowns->empty()) return;
    fn = g_shutdowns->back();
    g_shutdowns->pop_back();
  }
  if (fn != nullptr) fn();
}

}  // namespace

PluginRegistry& PluginRegistry::instance() {
  // Leaked on purpose: plugins and the devices they own must outlive every static destructor
  // that could still release a tensor.
  static PluginRegistry* registry = new PluginRegistry;
  return *registry;
}

LoadedPlugin* PluginRegistry::find_by_path(const std::string& canonical_path) const {
  auto it = by_path_.find(canonical_path);
  return it == by_path_.end() ? nullptr : it->second;
}

LoadedPlugin* PluginRegistry::find_by_name(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const DeviceApiEntry* PluginRegistry::find_device_api(const std::string& api) const {
  auto it = device_apis_.find(api);
  return it == device_apis_.end() ? nullptr : it->second;
}

const OpEntry* PluginRegistry::find_op(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second;
}

const Status* PluginRegistry::find_failed_init(const std::string& canonical_path) const {
  auto it = failed_init_.find(canonical_path);
  return it == failed_init_.end() ? nullptr : &it->second;
}

void PluginRegistry::record_failed_init(const std::string& canonical_path, const Status& status) {
  failed_init_[canonical_path] = status;
}

LoadedPlugin* PluginRegistry::add(std::unique_ptr<LoadedPlugin> plugin) {
  LoadedPlugin* p = plugin.get();
  plugins_.push_back(std::move(plugin));
  by_path_[p->path] = p;
  by_name_[p->name] = p;
  for (const auto& api : p->device_apis) device_apis_[api->api] = api.get();
  for (const auto& op : p->ops) ops_[op->name] = op.get();
  if (p->table->shutdown != nullptr) {
    std::lock_guard<std::mutex> lock(g_shutdown_mutex);
    g_shutdowns->push_back(p->table->shutdown);
    if (std::atexit(run_newest_shutdown) != 0) {
      g_shutdowns->pop_back();
      log_message(KILN_LOG_WARN, describe_plugin(*p) + ": cannot register its shutdown() at exit");
    }
  }
  return p;
}

bool find_op_provider(const std::string& op, std::string* plugin, std::string* version) {
  PluginRegistry& registry = PluginRegistry::instance();
  std::lock_guard<std::mutex> lock(registry.mutex());
  const OpEntry* entry = registry.find_op(op);
  if (entry == nullptr || entry->plugin == nullptr) return false;
  *plugin = entry->plugin->name;
  *version = entry->plugin->version;
  return true;
}

}  // namespace kiln
