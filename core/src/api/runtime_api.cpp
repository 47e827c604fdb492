// The C ABI of runtimes and plugins: creation with discovery, explicit loads, plugin info and
// load errors.
#include <algorithm>
#include <cstring>

#include "api/c_status.h"
#include "api/runtime_handles.h"
#include "runtime/device.h"
#include "runtime/plugin_record.h"

extern "C" {

kiln_status* kiln_runtime_create(const kiln_runtime_options* options, kiln_runtime** out_runtime) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(out_runtime);
  kiln::RuntimeOptions opts;
  if (options != nullptr) {
    const size_t size = options->struct_size;
    if (size < KILN_SIZE_THROUGH(kiln_runtime_options, num_plugin_paths)) {
      return kiln::make_c_status(kiln::StatusCode::kInvalidArgument,
                                 "kiln_runtime_create: options->struct_size is " +
                                     std::to_string(size) + "; call kiln_runtime_options_init");
    }
    if (options->num_plugin_paths > 0 && options->plugin_paths == nullptr) {
      return kiln::make_c_status(kiln::StatusCode::kInvalidArgument,
                                 "kiln_runtime_create: options->plugin_paths is NULL but "
                                 "num_plugin_paths is " +
                                     std::to_string(options->num_plugin_paths));
    }
    for (size_t i = 0; i < options->num_plugin_paths; ++i) {
      if (options->plugin_paths[i] == nullptr) {
        return kiln::make_c_status(
            kiln::StatusCode::kInvalidArgument,
            "kiln_runtime_create: options->plugin_paths[" + std::to_string(i) + "] is NULL");
      }
      opts.plugin_paths.emplace_back(options->plugin_paths[i]);
    }
    if (size >= KILN_SIZE_THROUGH(kiln_runtime_options, discover_plugins)) {
      opts.discover_plugins = options->discover_plugins != 0;
    }
    if (size >= KILN_SIZE_THROUGH(kiln_runtime_options, config_path) &&
        options->config_path != nullptr) {
      opts.config_path = options->config_path;
    }
  }
  auto runtime = kiln::Runtime::create(opts);
  if (!runtime.is_ok()) return kiln::to_c_status(runtime.status());
  *out_runtime = new kiln_runtime{std::move(runtime).value()};
  return nullptr;
  KILN_API_END
}

void kiln_runtime_destroy(kiln_runtime* runtime) { delete runtime; }

kiln_status* kiln_runtime_load_plugin(kiln_runtime* runtime, const char* path) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(path);
  return kiln::to_c_status(runtime->runtime->load_plugin(path));
  KILN_API_END
}

size_t kiln_runtime_get_plugin_count(const kiln_runtime* runtime) {
  return runtime ? runtime->runtime->plugin_count() : 0;
}

kiln_status* kiln_runtime_get_plugin_info(const kiln_runtime* runtime, size_t index,
                                          kiln_plugin_info* out_info) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(out_info);
  const kiln::LoadedPlugin* p = runtime->runtime->plugin(index);
  if (p == nullptr) {
    return kiln::make_c_status(kiln::StatusCode::kOutOfRange,
                               "kiln_runtime_get_plugin_info: index " + std::to_string(index) +
                                   " is out of range (the runtime has " +
                                   std::to_string(runtime->runtime->plugin_count()) + " plugins)");
  }
  if (out_info->struct_size < sizeof(size_t)) {
    return kiln::make_c_status(kiln::StatusCode::kInvalidArgument,
                               "kiln_runtime_get_plugin_info: out_info->struct_size is not set");
  }
  kiln_plugin_info info{};
  info.struct_size = sizeof info;
  // Every string below belongs to a process-wide plugin record: it outlives the runtime.
  info.name = p->name.c_str();
  info.version = p->version.c_str();
  info.path = p->path.c_str();
  info.abi_version = p->abi_version;
  info.device_api = p->device_apis.empty() ? nullptr : p->device_apis[0]->api.c_str();
  info.num_devices = p->num_devices();
  info.device_note = "";
  for (const auto& api : p->device_apis) {
    if (!api->device_note.empty()) {
      info.device_note = api->device_note.c_str();
      break;
    }
  }
  info.num_kernels = p->kernels.size();
  info.num_ops = p->ops.size();
  const size_t size = std::min(out_info->struct_size, sizeof info);
  std::memcpy(reinterpret_cast<char*>(out_info) + sizeof(size_t),
              reinterpret_cast<const char*>(&info) + sizeof(size_t), size - sizeof(size_t));
  return nullptr;
  KILN_API_END
}

size_t kiln_runtime_get_load_error_count(const kiln_runtime* runtime) {
  return runtime ? runtime->runtime->load_error_count() : 0;
}

kiln_status* kiln_runtime_get_load_error(const kiln_runtime* runtime, size_t index,
                                         const char** out_path, const char** out_message) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(out_path);
  KILN_CHECK_ARG(out_message);
  const kiln::LoadError* e = runtime->runtime->load_error(index);
  if (e == nullptr) {
    return kiln::make_c_status(kiln::StatusCode::kOutOfRange,
                               "kiln_runtime_get_load_error: index " + std::to_string(index) +
                                   " is out of range (the runtime has " +
                                   std::to_string(runtime->runtime->load_error_count()) +
                                   " load errors)");
  }
  *out_path = e->path.c_str();
  *out_message = e->message.c_str();
  return nullptr;
  KILN_API_END
}

}  // extern "C"
