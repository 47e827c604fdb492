// gpu_status.cu: statuses and log lines of the GPU plugin, made through the host's services.
#include <atomic>
#include <cstdlib>
#include <mutex>

#include "gpu_status.h"

namespace kiln::gpu {
namespace {
const kiln_host_api* g_host = nullptr;
std::atomic<bool> g_exiting{false};
}  // namespace

// Registered after the vendor runtime's own exit handler (the runtime is initialized before
// this is called), so it runs first: handlers run in reverse order of registration.
void watch_process_exit() {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit([] { g_exiting.store(true); }); });
}

bool process_exiting() { return g_exiting.load(); }

void set_host(const kiln_host_api* host) { g_host = host; }

const kiln_host_api& host() { return *g_host; }

kiln_status* Status::release() const {
  return ok() ? nullptr : g_host->status_create(code_, message_.c_str());
}

void log(int32_t level, const std::string& message) {
  if (g_host != nullptr && g_host->log != nullptr && !process_exiting()) {
    g_host->log(level, KILN_GPU_PLUGIN_NAME, message.c_str());
  }
}

std::string device_label(int32_t ordinal) {
  return std::string(KILN_GPU_DEVICE_API) + ":" + std::to_string(ordinal);
}

int32_t status_code_for(gpuError_t error) {
  switch (error) {
    case gpuErrorMemoryAllocation:
      return KILN_STATUS_RESOURCE_EXHAUSTED;
    case gpuErrorNoDevice:
    case gpuErrorInsufficientDriver:
    case gpuErrorInvalidDevice:
      return KILN_STATUS_UNAVAILABLE;
    case gpuErrorInvalidValue:
      return KILN_STATUS_INVALID_ARGUMENT;
    case gpuErrorNotSupported:
    case gpuErrorNoKernelImageForDevice:
      return KILN_STATUS_UNIMPLEMENTED;
    default:
      return KILN_STATUS_INTERNAL;
  }
}

std::string describe_error(gpuError_t error) {
  const char* name = gpuGetErrorName(error);
  const char* text = gpuGetErrorString(error);
  const std::string name_text = name != nullptr ? name : "unknown error";
  if (text == nullptr || name_text == text) {
    return name_text;  // HIP's error "string" may be the name again
  }
  return name_text + " (" + text + ")";
}

Status call_error(int32_t ordinal, const char* call, gpuError_t error, const std::string& detail) {
  (void)gpuGetLastError();  // a non-sticky error must not resurface at the next launch check
  std::string message = device_label(ordinal) + ": " + call + " failed: " + describe_error(error);
  if (error == gpuErrorNoKernelImageForDevice) {
    message += "; this plugin was built for " KILN_GPU_TARGETS
               " (rebuild with the device's architecture, see docs/backends.md)";
  }
  if (!detail.empty()) {
    message += "; " + detail;
  }
  return Status(status_code_for(error), std::move(message));
}

}  // namespace kiln::gpu
