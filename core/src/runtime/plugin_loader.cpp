// Probing and initializing plugins. The registry's lock is held across initialize() so that two
// threads loading the same plugin initialize it once.
#include "runtime/plugin_loader.h"

#include <filesystem>
#include <memory>
#include <vector>

#include "api/c_status.h"
#include "base/logging.h"
#include "runtime/device.h"
#include "runtime/host_api.h"
#include "runtime/plugin_registry.h"
#include "runtime/registrar.h"
#include "runtime/shared_object.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// Devices one device API may report; more is a broken plugin, not a machine.
constexpr int32_t kMaxDevicesPerApi = 4096;
// ABI 1.0's table ends with `extensions`.
constexpr size_t kPluginApiSize10 = offsetof(kiln_plugin_api, extensions) + sizeof(void*);

Status error(StatusCode code, const std::string& path, const std::string& reason) {
  return Status(code, "cannot load plugin '" + path + "': " + reason);
}

bool valid_plugin_name(const char* s) {
  if (s == nullptr || *s == '\0') return false;
  for (size_t n = 0; s[n] != '\0'; ++n) {
    const char c = s[n];
    if (n >= 128 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

StatusOr<std::string> canonical_path(const std::string& path) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(path, ec);
  if (ec) return not_found("cannot load plugin '" + path + "': " + ec.message());
  if (!fs::is_regular_file(canonical, ec)) {
    return invalid_argument("cannot load plugin '" + path + "': not a regular file");
  }
  return canonical.string();
}

// Negotiates the ABI: the table for this host's version, or an error saying which side is newer.
StatusOr<const kiln_plugin_api*> negotiate(kiln_plugin_get_api_fn entry, const std::string& path) {
  const kiln_plugin_api* table = entry(KILN_PLUGIN_ABI_VERSION);
  if (table == nullptr) {
    const kiln_plugin_api* query = entry(KILN_PLUGIN_ABI_QUERY);
    if (query == nullptr || query->struct_size < offsetof(kiln_plugin_api, name)) {
      return error(StatusCode::kFailedPrecondition, path,
                   "kiln_plugin_get_api returned NULL for this kiln's plugin ABI " +
                       abi_version_string(KILN_PLUGIN_ABI_VERSION) +
                       " and for the ABI query, so it cannot say which ABI it needs");
    }
    if ((query->abi_version >> 16) == KILN_PLUGIN_ABI_MAJOR) {
      return error(StatusCode::kFailedPrecondition, path,
                   "it reports plugin ABI " + abi_version_string(query->abi_version) +
                       " but refused this kiln's " + abi_version_string(KILN_PLUGIN_ABI_VERSION));
    }
    return error(StatusCode::kFailedPrecondition, path, describe_abi_mismatch(query->abi_version));
  }
  if (table->struct_size < offsetof(kiln_plugin_api, name)) {
    return error(StatusCode::kFailedPrecondition, path,
                 "its table is " + std::to_string(table->struct_size) +
                     " bytes, too small to hold a version");
  }
  if ((table->abi_version >> 16) != KILN_PLUGIN_ABI_MAJOR) {
    return error(StatusCode::kFailedPrecondition, path, describe_abi_mismatch(table->abi_version));
  }
  if (table->struct_size < kPluginApiSize10) {
    return error(StatusCode::kFailedPrecondition, path,
                 "its kiln_plugin_api is " + std::to_string(table->struct_size) +
                     " bytes, smaller than ABI 1.0's " + std::to_string(kPluginApiSize10));
  }
  return table;
}

// Asks each of the plugin's device APIs for its devices.
void enumerate_devices(LoadedPlugin& plugin) {
  for (auto& api : plugin.device_apis) {
    const char* reason = nullptr;
    int32_t count = api->table.get_count(api->table.user_data, &reason);
    if (count <= 0) {
      api->device_note = reason != nullptr && *reason != '\0' ? reason : "it reports no devices";
      if (count < 0) api->device_note += " (get_count returned " + std::to_string(count) + ")";
      continue;
    }
    if (count > kMaxDevicesPerApi) {
      log_message(KILN_LOG_WARN, describe_plugin(plugin) + ": device API '" + api->api +
                                     "' reports " + std::to_string(count) + " devices; using " +
                                     std::to_string(kMaxDevicesPerApi));
      count = kMaxDevicesPerApi;
    }
    for (int32_t ordinal = 0; ordinal < count; ++ordinal) {
      kiln_device_properties props{};
      props.struct_size = sizeof props;
      Status s = from_c_status(api->table.get_properties(api->table.user_data, ordinal, &props));
      if (!s.is_ok()) {
        // One broken device must not hide the others; the note says why it is missing.
        const std::string note =
            api->api + ":" + std::to_string(ordinal) + " skipped: " + s.message();
        log_message(KILN_LOG_WARN, describe_plugin(plugin) + ": " + note);
        api->device_note += (api->device_note.empty() ? "" : "; ") + note;
        continue;
      }
      std::string name =
          props.name != nullptr ? props.name : api->api + ":" + std::to_string(ordinal);
      api->devices.push_back(
          std::make_unique<Device>(api.get(), ordinal, std::move(name), props.total_memory));
    }
  }
}

}  // namespace

std::string describe_abi_mismatch(uint32_t plugin_abi) {
  const std::string theirs = abi_version_string(plugin_abi);
  if ((plugin_abi >> 16) > KILN_PLUGIN_ABI_MAJOR) {
    return "plugin ABI " + theirs + " is newer than this kiln's " +
           abi_version_string(KILN_PLUGIN_ABI_VERSION) + "; upgrade kiln";
  }
  return "plugin ABI " + theirs + " is older than the oldest this kiln supports (" +
         abi_version_string(kOldestSupportedPluginAbi) + "); rebuild the plugin";
}

StatusOr<ProbedPlugin> probe_plugin(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(std::string canonical, canonical_path(path));
  ProbedPlugin probe;
  probe.path = canonical;
  PluginRegistry& registry = PluginRegistry::instance();
  {
    std::lock_guard<std::mutex> lock(registry.mutex());
    if (LoadedPlugin* loaded = registry.find_by_path(canonical)) {
      probe.loaded = loaded;
      probe.table = loaded->table;
      probe.name = loaded->name;
      probe.version = loaded->version;
      probe.abi_version = loaded->abi_version;
      return probe;
    }
  }
  KILN_ASSIGN_OR_RETURN(kiln_plugin_get_api_fn entry, open_plugin_entry(canonical));
  KILN_ASSIGN_OR_RETURN(const kiln_plugin_api* table, negotiate(entry, canonical));
  if (!valid_plugin_name(table->name)) {
    return error(StatusCode::kInvalidArgument, canonical,
                 std::string("its name is ") +
                     (table->name ? "'" + std::string(table->name) + "'" : "NULL") +
                     "; a plugin name is 1 to 128 characters of [A-Za-z0-9_.-]");
  }
  if (table->version == nullptr) {
    return error(StatusCode::kInvalidArgument, canonical,
                 "plugin '" + std::string(table->name) + "' has no version string");
  }
  if (table->initialize == nullptr) {
    return error(StatusCode::kInvalidArgument, canonical,
                 "plugin '" + std::string(table->name) + "' has no initialize function");
  }
  probe.table = table;
  probe.name = table->name;
  probe.version = table->version;
  probe.abi_version = table->abi_version;
  if (table->score != nullptr) {
    const char* reason = nullptr;
    probe.score = table->score(&reason);
    probe.score_reason = reason != nullptr ? reason : "";
  }
  return probe;
}

StatusOr<LoadedPlugin*> initialize_plugin(const ProbedPlugin& probe) {
  PluginRegistry& registry = PluginRegistry::instance();
  std::lock_guard<std::mutex> lock(registry.mutex());
  if (LoadedPlugin* loaded = registry.find_by_path(probe.path)) return loaded;
  if (const Status* failed = registry.find_failed_init(probe.path)) {
    return Status(failed->code(),
                  failed->message() + " (initialize() is not retried in this process)");
  }
  if (const LoadedPlugin* other = registry.find_by_name(probe.name)) {
    return error(
        StatusCode::kAlreadyExists, probe.path,
        "a plugin named '" + probe.name + "' is already loaded from '" + other->path + "'");
  }

  auto pending = std::make_unique<LoadedPlugin>();
  pending->name = probe.name;
  pending->version = probe.version;
  pending->path = probe.path;
  pending->abi_version = probe.abi_version;
  pending->table = probe.table;

  // Kept for the life of the process (a few bytes per plugin): a plugin that keeps the registrar
  // pointer and calls it after initialize() gets FAILED_PRECONDITION, not a use after free.
  static std::vector<std::unique_ptr<kiln_registrar>>* closed_registrars =
      new std::vector<std::unique_ptr<kiln_registrar>>;  // under the registry's lock
  closed_registrars->push_back(std::make_unique<kiln_registrar>());
  kiln_registrar* registrar = closed_registrars->back().get();
  registrar->pending = pending.get();
  registrar->registry = &registry;
  Status status = from_c_status(probe.table->initialize(host_api(), registrar));
  registrar->open.store(false);
  registrar->pending = nullptr;
  if (!status.is_ok()) {
    // Nothing it registered is kept: `pending` is dropped with everything in it.
    Status failure(status.code(), "cannot load plugin '" + probe.path + "': plugin '" + probe.name +
                                      "' failed to initialize: " + status.message());
    registry.record_failed_init(probe.path, failure);
    return failure;
  }
  enumerate_devices(*pending);
  LoadedPlugin* plugin = registry.add(std::move(pending));
  log_message(KILN_LOG_INFO, "loaded " + describe_plugin(*plugin) + " " + plugin->version + ": " +
                                 std::to_string(plugin->num_devices()) + " devices, " +
                                 std::to_string(plugin->kernels.size()) + " kernels, " +
                                 std::to_string(plugin->ops.size()) + " ops");
  return plugin;
}

StatusOr<LoadedPlugin*> load_plugin_file(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(ProbedPlugin probe, probe_plugin(path));
  if (probe.loaded != nullptr) return probe.loaded;
  if (probe.score <= 0) {
    return error(StatusCode::kFailedPrecondition, probe.path,
                 "plugin '" + probe.name + "' cannot run on this machine (score " +
                     std::to_string(probe.score) + ")" +
                     (probe.score_reason.empty() ? "" : ": " + probe.score_reason));
  }
  return initialize_plugin(probe);
}

}  // namespace kiln
