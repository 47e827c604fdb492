// kiln_status: creation, the public accessors, and conversion from internal Status.
#include "api/c_status.h"

#include <cstdlib>

#include "base/dtype.h"
#include "base/logging.h"

namespace kiln {

namespace {
kiln_status g_out_of_memory{KILN_STATUS_RESOURCE_EXHAUSTED, "out of memory"};
}  // namespace

kiln_status* make_c_status(StatusCode code, const std::string& message) {
  try {
    return new kiln_status{static_cast<int32_t>(code), message};
  } catch (...) {
    return &g_out_of_memory;  // never freed: kiln_status_destroy skips it
  }
}

bool is_static_status(const kiln_status* status) { return status == &g_out_of_memory; }

kiln_status* to_c_status(const Status& status) {
  if (status.is_ok()) return nullptr;
  return make_c_status(status.code(), status.message());
}

Status from_c_status(kiln_status* status) {
  if (status == nullptr) return Status::ok();
  Status result(static_cast<StatusCode>(status->code), status->message);
  kiln_status_destroy(status);
  return result;
}

}  // namespace kiln

extern "C" {

int32_t kiln_status_get_code(const kiln_status* status) {
  return status ? status->code : KILN_STATUS_OK;
}

const char* kiln_status_get_message(const kiln_status* status) {
  return status ? status->message.c_str() : "";
}

const char* kiln_status_code_get_name(int32_t code) {
  if (code < KILN_STATUS_OK || code > KILN_STATUS_UNAUTHENTICATED) return "UNKNOWN";
  if (code == KILN_STATUS_UNAUTHENTICATED) return "UNAUTHENTICATED";
  return kiln::status_code_name(static_cast<kiln::StatusCode>(code));
}

void kiln_status_destroy(kiln_status* status) {
  if (status == nullptr || kiln::is_static_status(status)) return;
  delete status;
}

void kiln_buffer_destroy(void* buffer) { std::free(buffer); }

const char* kiln_get_version(void) { return KILN_VERSION_STRING; }
uint32_t kiln_get_abi_version(void) { return KILN_ABI_VERSION; }
void kiln_set_log_level(int32_t level) { kiln::set_log_level(level); }
const char* kiln_dtype_get_name(int32_t dtype) { return kiln::dtype_c_name(dtype); }
int32_t kiln_dtype_from_name(const char* name) {
  return name ? static_cast<int32_t>(kiln::dtype_from_name(name)) : KILN_DTYPE_INVALID;
}

}  // extern "C"
