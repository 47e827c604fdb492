// The host's services for plugins. Each entry is called from plugin code, so none may throw.
#include "runtime/host_api.h"

#include <cstdlib>
#include <string>

#include "api/c_status.h"
#include "base/logging.h"
#include "runtime/kernel_context.h"
#include "runtime/registrar.h"

namespace kiln {
namespace {

kiln_status* status_create(int32_t code, const char* message) {
  if (code == KILN_STATUS_OK) return nullptr;
  // A code outside the canonical set would be misreported by every reader; keep the number.
  std::string text = message != nullptr ? message : "";
  if (code < KILN_STATUS_OK || code > KILN_STATUS_UNAUTHENTICATED) {
    text = "(plugin status code " + std::to_string(code) + ") " + text;
    code = KILN_STATUS_UNKNOWN;
  }
  return make_c_status(static_cast<StatusCode>(code), text);
}

void status_destroy(kiln_status* status) { kiln_status_destroy(status); }

void log(int32_t level, const char* plugin_name, const char* message) {
  try {
    if (level < KILN_LOG_TRACE) level = KILN_LOG_TRACE;
    if (level > KILN_LOG_CRITICAL) level = KILN_LOG_CRITICAL;
    log_message(level, std::string("[") + (plugin_name ? plugin_name : "plugin") + "] " +
                           (message ? message : ""));
  } catch (...) {
    // Logging must never take a plugin down.
  }
}

void* host_allocate(size_t bytes, size_t alignment) {
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  if ((alignment & (alignment - 1)) != 0) return nullptr;  // not a power of two
  void* ptr = nullptr;
  if (posix_memalign(&ptr, alignment, bytes == 0 ? 1 : bytes) != 0) return nullptr;
  return ptr;
}

void host_deallocate(void* ptr) { std::free(ptr); }

kiln_host_api make_table() {
  kiln_host_api t{};
  t.struct_size = sizeof t;
  t.abi_version = KILN_PLUGIN_ABI_VERSION;
  t.status_create = status_create;
  t.log = log;
  t.host_allocate = host_allocate;
  t.host_deallocate = host_deallocate;
  t.register_device_api = registrar_register_device_api;
  t.register_op = registrar_register_op;
  t.register_kernel = registrar_register_kernel;
  t.ctx_get_input_count = ctx_get_input_count;
  t.ctx_get_output_count = ctx_get_output_count;
  t.ctx_get_input = ctx_get_input;
  t.ctx_get_output = ctx_get_output;
  t.ctx_set_output_shape = ctx_set_output_shape;
  t.ctx_get_attr = ctx_get_attr;
  t.ctx_get_num_threads = ctx_get_num_threads;
  t.ctx_get_device_ordinal = ctx_get_device_ordinal;
  t.ctx_get_stream = ctx_get_stream;
  t.ctx_allocate_scratch = ctx_allocate_scratch;
  t.ctx_get_node_name = ctx_get_node_name;
  t.ctx_get_op_name = ctx_get_op_name;
  t.status_destroy = status_destroy;
  return t;
}

}  // namespace

const kiln_host_api* host_api() {
  static const kiln_host_api table = make_table();
  return &table;
}

}  // namespace kiln
