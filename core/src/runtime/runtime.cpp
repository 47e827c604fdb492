// Runtime: creation (configuration and discovery), its plugins, devices and load errors.
#include "runtime/runtime.h"

#include <cstdlib>
#include <set>

#include "base/logging.h"
#include "ops/op_schema.h"
#include "runtime/device.h"
#include "runtime/plugin_discovery.h"
#include "runtime/plugin_loader.h"
#include "runtime/plugin_record.h"

namespace kiln {
namespace {

// Parses "name" or "name:N" (N decimal, no sign). False when malformed.
bool parse_spec(const std::string& spec, std::string* name, int32_t* index) {
  const size_t colon = spec.find(':');
  *name = spec.substr(0, colon);
  *index = 0;
  if (name->empty()) return false;
  for (char c : *name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  if (colon == std::string::npos) return true;
  const std::string digits = spec.substr(colon + 1);
  if (digits.empty() || digits.size() > 9) return false;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *index = static_cast<int32_t>(value);
  return true;
}

}  // namespace

StatusOr<std::shared_ptr<Runtime>> Runtime::create(const RuntimeOptions& options) {
  KILN_ASSIGN_OR_RETURN(RuntimeConfig config, find_runtime_config(options.config_path));
  // The environment wins over the file, as it does for every other setting users override.
  if (config.log_level && std::getenv("KILN_LOG_LEVEL") == nullptr) {
    set_log_level(*config.log_level);
  }
  std::shared_ptr<Runtime> runtime(new Runtime(std::move(config)));
  std::vector<LoadError> problems;
  const std::vector<PluginCandidate> candidates =
      collect_plugin_candidates(options, runtime->config_, &problems);
  for (const LoadError& p : problems) runtime->record_load_error(p.path, not_found(p.message));
  load_discovered_plugins(*runtime, candidates);
  return runtime;
}

Status Runtime::load_plugin(const std::string& path) {
  auto loaded = load_plugin_file(path);
  if (!loaded.is_ok()) {
    record_load_error(path, loaded.status());
    return loaded.status();
  }
  add_plugin(*loaded);
  warn_unusable_kernels();
  return Status::ok();
}

void Runtime::record_load_error(const std::string& path, const Status& status) {
  log_message(KILN_LOG_WARN, status.message());
  std::lock_guard<std::mutex> lock(mutex_);
  load_errors_.push_back({path, status.message()});
}

void Runtime::add_plugin(LoadedPlugin* plugin) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const LoadedPlugin* p : plugins_)
    if (p == plugin) return;
  plugins_.push_back(plugin);
  for (const auto& api : plugin->device_apis) {
    for (const auto& device : api->devices) {
      int32_t id = 0;
      for (const kiln_device& h : handles_)
        if (h.device->label() == device->label()) ++id;
      kiln_device& handle = handles_.emplace_back();
      handle.runtime = this;
      handle.device = device.get();
      handle.id = id;
      handle.spec = device->label() + ":" + std::to_string(id);
    }
  }
  ordered_.clear();
  for (kiln_device& h : handles_)
    if (h.device->is_host()) ordered_.push_back(&h);
  for (kiln_device& h : handles_)
    if (!h.device->is_host()) ordered_.push_back(&h);
}

void Runtime::warn_unusable_kernels() const {
  static std::mutex warned_mutex;
  static std::set<const KernelEntry*>* warned = new std::set<const KernelEntry*>;
  const std::vector<LoadedPlugin*> list = plugins();
  std::set<std::string> ops, apis;
  for (const LoadedPlugin* p : list) {
    for (const auto& op : p->ops) ops.insert(op->name);
    for (const auto& api : p->device_apis) apis.insert(api->api);
  }
  std::lock_guard<std::mutex> lock(warned_mutex);
  for (const LoadedPlugin* p : list) {
    for (const auto& k : p->kernels) {
      std::string missing;
      if (!is_core_op(k->op) && ops.count(k->op) == 0) {
        missing = "op '" + k->op + "' is not a core op and no loaded plugin registers it";
      } else if (apis.count(k->device_api) == 0) {
        missing = "no loaded plugin provides device API '" + k->device_api + "'";
      }
      if (missing.empty() || !warned->insert(k.get()).second) continue;
      log_message(KILN_LOG_WARN,
                  describe_plugin(*p) + ": kernel '" + k->name + "' is unused: " + missing);
    }
  }
}

std::vector<LoadedPlugin*> Runtime::plugins() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return plugins_;
}

size_t Runtime::plugin_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return plugins_.size();
}

const LoadedPlugin* Runtime::plugin(size_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return index < plugins_.size() ? plugins_[index] : nullptr;
}

size_t Runtime::load_error_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return load_errors_.size();
}

const LoadError* Runtime::load_error(size_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return index < load_errors_.size() ? &load_errors_[index] : nullptr;
}

size_t Runtime::device_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ordered_.size();
}

kiln_device* Runtime::device(size_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return index < ordered_.size() ? ordered_[index] : nullptr;
}

kiln_device* Runtime::handle_of(const Device* device) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (kiln_device* h : ordered_)
    if (h->device == device) return h;
  return nullptr;
}

kiln_device* Runtime::host_device() const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (kiln_device* h : ordered_)
    if (h->device->is_host()) return h;
  return nullptr;
}

std::string Runtime::describe_devices() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const kiln_device* h : ordered_) {
    out += (out.empty() ? "" : ", ") + h->spec + " (" + h->device->api_spec() + ", " +
           h->device->name() + ")";
  }
  if (out.empty()) out = "none";
  std::string without;
  for (const LoadedPlugin* p : plugins_) {
    for (const auto& api : p->device_apis) {
      if (!api->devices.empty()) continue;
      without += (without.empty() ? "" : ", ") + api->api + " (" + api->device_note + ")";
    }
  }
  if (!without.empty()) out += "; device APIs without devices: " + without;
  if (!load_errors_.empty()) {
    out += "; " + std::to_string(load_errors_.size()) +
           " plugin(s) failed to load (see kiln_runtime_get_load_error)";
  }
  return out;
}

StatusOr<kiln_device*> Runtime::find_device(const std::string& spec) const {
  std::string name;
  int32_t index = 0;
  if (!parse_spec(spec, &name, &index)) {
    return invalid_argument("device spec '" + spec +
                            "' is malformed; expected cpu, cpu:N, gpu, gpu:N or <api>:N");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (kiln_device* h : ordered_) {
      const bool by_label =
          (name == "cpu" || name == "gpu") && h->device->label() == name && h->id == index;
      const bool by_api = h->device->api_name() == name && h->device->ordinal() == index;
      if (by_label || by_api) return h;
    }
  }
  return not_found("no device '" + spec + "' in this runtime; devices: " + describe_devices());
}

}  // namespace kiln
