// Registration of device APIs, ops and kernels from a plugin's initialize(). Every string and
// array is copied; every struct is checked against its ABI 1.0 size; errors are statuses that
// name the plugin and the field.
#include "runtime/registrar.h"

#include <algorithm>
#include <cstring>

#include "api/c_status.h"
#include "base/dtype.h"
#include "base/logging.h"
#include "ops/op_schema.h"
#include "runtime/device.h"
#include "runtime/plugin_registry.h"

namespace kiln {
namespace {

constexpr size_t kMaxNameLength = 128;
// A kernel's dtype list longer than this is certainly a mistake (there are 18 dtypes).
constexpr size_t kMaxKernelDtypes = 64;
// Inputs an op can have that a kernel may select on; far above any real op.
constexpr int32_t kMaxDtypeSource = 4096;

bool valid_name(const char* s, bool allow_dot) {
  if (s == nullptr || *s == '\0') return false;
  size_t n = 0;
  for (; s[n] != '\0'; ++n) {
    const char c = s[n];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || (allow_dot && c == '.');
    if (!ok || n >= kMaxNameLength) return false;
  }
  return true;
}

std::string quoted(const char* s) { return s == nullptr ? "NULL" : "'" + std::string(s) + "'"; }

// The plugin usually returns this from initialize(), and the loader then names the plugin.
kiln_status* error(StatusCode code, const kiln_registrar*, const std::string& message) {
  return make_c_status(code, message);
}

kiln_status* check_open(const kiln_registrar* r, const void* desc, const char* what) {
  if (r == nullptr || !r->open.load() || r->pending == nullptr) {
    return make_c_status(StatusCode::kFailedPrecondition,
                         std::string(what) + ": the registrar is valid only during initialize()");
  }
  if (desc == nullptr)
    return error(StatusCode::kInvalidArgument, r, std::string(what) + " is NULL");
  return nullptr;
}

const DeviceApiEntry* find_pending_api(const LoadedPlugin& p, const std::string& api) {
  for (const auto& a : p.device_apis)
    if (a->api == api) return a.get();
  return nullptr;
}

const OpEntry* find_pending_op(const LoadedPlugin& p, const std::string& name) {
  for (const auto& o : p.ops)
    if (o->name == name) return o.get();
  return nullptr;
}

}  // namespace

kiln_status* registrar_register_device_api(kiln_registrar* r, const kiln_device_api* api) {
  KILN_API_BEGIN
  if (kiln_status* s = check_open(r, api, "register_device_api: the device API")) return s;
  const size_t size = api->struct_size;
  if (!KILN_PLUGIN_HAS_FIELD(kiln_device_api, synchronize, size)) {
    return error(StatusCode::kInvalidArgument, r,
                 "kiln_device_api.struct_size is " + std::to_string(size) +
                     ", smaller than ABI 1.0's required fields");
  }
  if (!valid_name(api->api, /*allow_dot=*/false)) {
    return error(StatusCode::kInvalidArgument, r,
                 "device API name " + quoted(api->api) + " is not a name of [A-Za-z0-9_-]");
  }
  const std::string name = api->api;
  if (api->label == nullptr ||
      (std::strcmp(api->label, "cpu") != 0 && std::strcmp(api->label, "gpu") != 0)) {
    return error(StatusCode::kInvalidArgument, r,
                 "device API '" + name + "' has label " + quoted(api->label) +
                     "; it must be \"cpu\" or \"gpu\"");
  }
  const std::pair<const void*, const char*> required[] = {
      {reinterpret_cast<const void*>(api->get_count), "get_count"},
      {reinterpret_cast<const void*>(api->get_properties), "get_properties"},
      {reinterpret_cast<const void*>(api->allocate), "allocate"},
      {reinterpret_cast<const void*>(api->deallocate), "deallocate"},
      {reinterpret_cast<const void*>(api->copy), "copy"},
      {reinterpret_cast<const void*>(api->memset_zero), "memset_zero"},
      {reinterpret_cast<const void*>(api->synchronize), "synchronize"},
  };
  for (const auto& [fn, field] : required) {
    if (fn == nullptr) {
      return error(StatusCode::kInvalidArgument, r,
                   "device API '" + name + "' has no " + field + " function (it is required)");
    }
  }
  if (const DeviceApiEntry* other = r->registry->find_device_api(name)) {
    return error(
        StatusCode::kAlreadyExists, r,
        "device API '" + name + "' is already provided by " + describe_plugin(*other->plugin));
  }
  if (find_pending_api(*r->pending, name) != nullptr) {
    return error(StatusCode::kAlreadyExists, r, "device API '" + name + "' is registered twice");
  }

  auto entry = std::make_unique<DeviceApiEntry>();
  entry->plugin = r->pending;
  entry->api = name;
  entry->label = api->label;
  entry->is_host = api->is_host != 0;
  // Fields past the plugin's struct_size stay NULL: optional entries it does not know.
  std::memcpy(&entry->table, api, std::min(size, sizeof entry->table));
  entry->table.struct_size = sizeof entry->table;
  entry->table.api = entry->api.c_str();
  entry->table.label = entry->label.c_str();
  r->pending->device_apis.push_back(std::move(entry));
  return nullptr;
  KILN_API_END
}

kiln_status* registrar_register_op(kiln_registrar* r, const kiln_op_def* op) {
  KILN_API_BEGIN
  if (kiln_status* s = check_open(r, op, "register_op: the op definition")) return s;
  if (!KILN_PLUGIN_HAS_FIELD(kiln_op_def, doc, op->struct_size)) {
    return error(StatusCode::kInvalidArgument, r,
                 "kiln_op_def.struct_size is " + std::to_string(op->struct_size) +
                     ", smaller than ABI 1.0's " + std::to_string(sizeof(kiln_op_def)));
  }
  if (!valid_name(op->name, /*allow_dot=*/true)) {
    return error(StatusCode::kInvalidArgument, r,
                 "op name " + quoted(op->name) + " is not a name of [A-Za-z0-9_.-]");
  }
  const std::string name = op->name;
  if (is_core_op(name)) {
    return error(StatusCode::kAlreadyExists, r,
                 "'" + name + "' is a core op: register kernels for it, not an op");
  }
  if (const OpEntry* other = r->registry->find_op(name)) {
    return error(StatusCode::kAlreadyExists, r,
                 "op '" + name + "' is already registered by " + describe_plugin(*other->plugin));
  }
  if (find_pending_op(*r->pending, name) != nullptr) {
    return error(StatusCode::kAlreadyExists, r, "op '" + name + "' is registered twice");
  }
  auto bad_range = [](int32_t lo, int32_t hi) { return lo < 0 || (hi != -1 && hi < lo); };
  if (bad_range(op->min_inputs, op->max_inputs) || bad_range(op->min_outputs, op->max_outputs)) {
    return error(StatusCode::kInvalidArgument, r,
                 "op '" + name + "' has inputs [" + std::to_string(op->min_inputs) + ", " +
                     std::to_string(op->max_inputs) + "] and outputs [" +
                     std::to_string(op->min_outputs) + ", " + std::to_string(op->max_outputs) +
                     "]: minimums must be >= 0 and maximums -1 or >= the minimum");
  }
  auto entry = std::make_unique<OpEntry>();
  entry->plugin = r->pending;
  entry->name = name;
  entry->doc = op->doc ? op->doc : "";
  entry->min_inputs = op->min_inputs;
  entry->max_inputs = op->max_inputs;
  entry->min_outputs = op->min_outputs;
  entry->max_outputs = op->max_outputs;
  r->pending->ops.push_back(std::move(entry));
  return nullptr;
  KILN_API_END
}

kiln_status* registrar_register_kernel(kiln_registrar* r, const kiln_kernel_def* k) {
  KILN_API_BEGIN
  if (kiln_status* s = check_open(r, k, "register_kernel: the kernel definition")) return s;
  if (!KILN_PLUGIN_HAS_FIELD(kiln_kernel_def, name, k->struct_size)) {
    return error(StatusCode::kInvalidArgument, r,
                 "kiln_kernel_def.struct_size is " + std::to_string(k->struct_size) +
                     ", smaller than ABI 1.0's " + std::to_string(sizeof(kiln_kernel_def)));
  }
  if (!valid_name(k->op, /*allow_dot=*/true)) {
    return error(StatusCode::kInvalidArgument, r,
                 "kernel " + quoted(k->name) + ": op " + quoted(k->op) + " is not a valid op name");
  }
  const std::string op = k->op;
  const std::string kernel_name =
      k->name != nullptr && *k->name != '\0' ? std::string(k->name) : r->pending->name + "." + op;
  const std::string what = "kernel '" + kernel_name + "' for op '" + op + "'";
  if (!valid_name(k->device_api, /*allow_dot=*/false)) {
    return error(StatusCode::kInvalidArgument, r,
                 what + ": device API " + quoted(k->device_api) + " is not a valid name");
  }
  if (k->compute == nullptr) {
    return error(StatusCode::kInvalidArgument, r, what + " has no compute function");
  }
  if (k->num_dtypes > 0 && k->dtypes == nullptr) {
    return error(StatusCode::kInvalidArgument, r,
                 what + ": num_dtypes is " + std::to_string(k->num_dtypes) + " but dtypes is NULL");
  }
  if (k->num_dtypes > kMaxKernelDtypes) {
    return error(StatusCode::kInvalidArgument, r,
                 what + ": " + std::to_string(k->num_dtypes) + " dtypes listed");
  }
  for (size_t i = 0; i < k->num_dtypes; ++i) {
    if (!dtype_is_valid(k->dtypes[i])) {
      return error(StatusCode::kInvalidArgument, r,
                   what + ": dtypes[" + std::to_string(i) + "] is an unknown dtype code " +
                       std::to_string(k->dtypes[i]));
    }
  }
  if (k->dtype_source < -1 || k->dtype_source > kMaxDtypeSource) {
    return error(StatusCode::kInvalidArgument, r,
                 what + ": dtype_source " + std::to_string(k->dtype_source) +
                     " is neither an input index nor -1 (output 0)");
  }
  // The op and the device API may come from a plugin loaded later (a kernel library found before
  // the backend it extends), so neither is required to exist yet; the runtime warns about kernels
  // that stay unusable once loading is done (docs/runtime.md).
  const OpEntry* custom = r->registry->find_op(op);
  if (custom == nullptr) custom = find_pending_op(*r->pending, op);
  if (custom != nullptr && custom->max_inputs >= 0 && k->dtype_source >= custom->max_inputs) {
    return error(StatusCode::kInvalidArgument, r,
                 what + ": dtype_source " + std::to_string(k->dtype_source) +
                     " but the op takes at most " + std::to_string(custom->max_inputs) + " inputs");
  }

  auto entry = std::make_unique<KernelEntry>();
  entry->plugin = r->pending;
  entry->op = op;
  entry->device_api = k->device_api;
  entry->name = kernel_name;
  entry->dtypes.assign(k->dtypes, k->dtypes + k->num_dtypes);
  entry->dtype_source = k->dtype_source;
  entry->priority = k->priority;
  entry->compute = k->compute;
  entry->user_data = k->user_data;
  r->pending->kernels.push_back(std::move(entry));
  return nullptr;
  KILN_API_END
}

}  // namespace kiln
