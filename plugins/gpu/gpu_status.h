// gpu_status.h: errors inside the GPU plugin (a Status naming the failed vendor call), the host's
// logging, and the edge that turns a Status into a kiln_status* and keeps C++ exceptions from
// crossing the plugin ABI.
#ifndef KILN_PLUGINS_GPU_GPU_STATUS_H_
#define KILN_PLUGINS_GPU_GPU_STATUS_H_

#include <exception>
#include <new>
#include <string>
#include <utility>

#include "kiln/kiln_plugin.h"
#include "vendor.h"

namespace kiln::gpu {

// An error on its way to the ABI edge. It becomes a kiln_status only when handed to the host, so
// errors the plugin handles itself never allocate in the host.
class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(int32_t code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == KILN_STATUS_OK; }
  int32_t code() const { return code_; }
  const std::string& message() const { return message_; }
  // NULL when OK, else a host-made status the caller hands to the host.
  kiln_status* release() const;

 private:
  int32_t code_ = KILN_STATUS_OK;
  std::string message_;
};

// Set once by initialize(); the plugin stays loaded for the life of the process.
void set_host(const kiln_host_api* host);
const kiln_host_api& host();

// Logs through the host, unless the process is exiting (the host's logger may be gone).
void log(int32_t level, const std::string& message);

// watch_process_exit(), called once the vendor runtime is up, makes process_exiting() turn true
// when exit() starts running handlers. The vendor runtime tears itself down at exit too; frees
// after that point are skipped (the driver reclaims everything) instead of failing noisily into
// a logger that may be gone.
void watch_process_exit();
bool process_exiting();

// "<api>:<ordinal>", e.g. "cuda:0", for messages.
std::string device_label(int32_t ordinal);

// The status code a vendor error maps to (RESOURCE_EXHAUSTED, UNAVAILABLE, ...).
int32_t status_code_for(gpuError_t error);

// "cudaErrorMemoryAllocation (out of memory)".
std::string describe_error(gpuError_t error);

// A status for a failed vendor call, e.g.
//   "cuda:0: cudaMallocFromPoolAsync failed: cudaErrorMemoryAllocation (out of memory); 4096 bytes"
// It also clears the runtime's last-error slot, so the failure is not blamed on a later launch.
Status call_error(int32_t ordinal, const char* call, gpuError_t error,
                  const std::string& detail = {});

// A result handed to the host: our own Status, or a status the host made (passed through).
inline kiln_status* to_host(const Status& status) { return status.release(); }
inline kiln_status* to_host(kiln_status* status) { return status; }

// The ABI edge of a status-returning callback: runs body() (returning Status or kiln_status*)
// and hands the result to the host, turning any C++ exception into a status.
template <typename Body>
kiln_status* guarded(const char* what, Body&& body) noexcept {
  try {
    return to_host(body());
  } catch (const std::bad_alloc&) {
    return Status(KILN_STATUS_RESOURCE_EXHAUSTED, std::string(what) + ": out of host memory")
        .release();
  } catch (const std::exception& e) {
    return Status(KILN_STATUS_INTERNAL, std::string(what) + ": " + e.what()).release();
  } catch (...) {
    return Status(KILN_STATUS_INTERNAL, std::string(what) + ": unknown exception").release();
  }
}

// The ABI edge of a void callback: runs body() (returning Status) and logs a failure.
template <typename Body>
void guarded_void(const char* what, Body&& body) noexcept {
  try {
    const Status status = body();
    if (!status.ok()) {
      log(KILN_LOG_ERROR, std::string(what) + ": " + status.message());
    }
  } catch (...) {
    log(KILN_LOG_ERROR, std::string(what) + ": unexpected exception");
  }
}

}  // namespace kiln::gpu

// Returns a Status from the enclosing function when a vendor call fails, naming the
// call in the vendor's spelling: KILN_GPU_TRY(0, gpuMalloc, &ptr, bytes) -> "cudaMalloc failed".
#define KILN_GPU_TRY(ordinal, fn, ...)                                               \
  do {                                                                               \
    const gpuError_t kiln_gpu_error_ = fn(__VA_ARGS__);                              \
    if (kiln_gpu_error_ != gpuSuccess) {                                             \
      return ::kiln::gpu::call_error((ordinal), KILN_GPU_NAME(fn), kiln_gpu_error_); \
    }                                                                                \
  } while (0)

// Returns a failed Status from the enclosing function.
#define KILN_GPU_RETURN_IF_ERROR(expr)             \
  do {                                             \
    ::kiln::gpu::Status kiln_gpu_status_ = (expr); \
    if (!kiln_gpu_status_.ok()) {                  \
      return kiln_gpu_status_;                     \
    }                                              \
  } while (0)

// Returns a status the host made (non-NULL) from the enclosing kiln_status* function.
#define KILN_GPU_RETURN_IF_HOST_ERROR(expr)      \
  do {                                           \
    kiln_status* kiln_gpu_host_status_ = (expr); \
    if (kiln_gpu_host_status_ != nullptr) {      \
      return kiln_gpu_host_status_;              \
    }                                            \
  } while (0)

#endif  // KILN_PLUGINS_GPU_GPU_STATUS_H_
