// plugin_entry.cu: the GPU plugin's one exported symbol, its table, score() and initialize().
// Built as "cuda" (device API "cuda") by nvcc, or as "rocm" (device API "hip") by hipcc.
#include <string>

#include "device.h"
#include "device_api.h"
#include "kernels.h"
#include "gpu_status.h"
#include "kiln/kiln_plugin.h"
#include "vendor.h"

#ifndef KILN_GPU_PLUGIN_VERSION
#define KILN_GPU_PLUGIN_VERSION "0.1.0"
#endif

namespace kiln::gpu {
namespace {

// Cheap and side-effect free: the runtime is linked in (CUDA statically; HIP as a dependency the
// loader already resolved), so the plugin can always run; devices are decided at initialize().
int32_t score(const char** out_reason) {
  (void)out_reason;
  return 1;
}

std::string describe(const Backend& backend) {
  std::string text = KILN_GPU_RUNTIME_NAME " runtime " + version_string(backend.runtime_version());
#if !defined(KILN_GPU_HIP)  // HIP reports its own version as the "driver" version
  if (backend.driver_version() > 0) {
    text += ", driver " + version_string(backend.driver_version());
  }
#endif
  text += ", kernels for " KILN_GPU_TARGETS;
  if (backend.count() == 0) {
    return "no devices: " + backend.reason() + " (" + text + ")";
  }
  return std::to_string(backend.count()) + " device(s) (" + text + ")";
}

kiln_status* initialize(const kiln_host_api* host, kiln_registrar* registrar) {
  // get_api already refused other major versions, so a 1.x host has the whole 1.0 table.
  if (!KILN_PLUGIN_HAS_FIELD(kiln_host_api, ctx_get_op_name, host->struct_size)) {
    return host->status_create(KILN_STATUS_FAILED_PRECONDITION,
                               KILN_GPU_PLUGIN_NAME ": the host's API table is older than 1.0");
  }
  set_host(host);
  return guarded("initialize", [&]() -> kiln_status* {
    // Lives for the process: device callbacks may run until exit, after static destructors.
    // A second runtime in the process initializes the plugin again and shares these.
    static Backend* const backend = new Backend();
    static const kiln_device_api device_api = make_device_api(backend);
    watch_process_exit();  // after Backend(), whose first call initialized the vendor runtime
    log(KILN_LOG_INFO, describe(*backend));
    KILN_GPU_RETURN_IF_HOST_ERROR(host->register_device_api(registrar, &device_api));
    KILN_GPU_RETURN_IF_HOST_ERROR(register_elementwise_kernels(host, registrar, backend));
    KILN_GPU_RETURN_IF_HOST_ERROR(register_reduction_kernels(host, registrar, backend));
    KILN_GPU_RETURN_IF_HOST_ERROR(register_layout_kernels(host, registrar, backend));
    KILN_GPU_RETURN_IF_HOST_ERROR(register_math_kernels(host, registrar, backend));
    KILN_GPU_RETURN_IF_HOST_ERROR(register_sort_kernels(host, registrar, backend));
    KILN_GPU_RETURN_IF_HOST_ERROR(register_movement_kernels(host, registrar, backend));
    KILN_GPU_RETURN_IF_HOST_ERROR(register_quant_kernels(host, registrar, backend));
    return register_matmul_kernels(host, registrar, backend);
  });
}

// No shutdown(): freeing device memory and contexts at exit is the driver's job, and the vendor
// runtime may already be unloading when the host calls it.
const kiln_plugin_api kTable = {
    sizeof(kiln_plugin_api),  // struct_size
    KILN_PLUGIN_ABI_VERSION,  // abi_version
    KILN_GPU_PLUGIN_NAME,     // name
    KILN_GPU_PLUGIN_VERSION,  // version
    score,                    // score
    initialize,               // initialize
    nullptr,                  // shutdown
    nullptr,                  // extensions
};

}  // namespace
}  // namespace kiln::gpu

KILN_PLUGIN_DEFINE_ENTRY(kiln::gpu::kTable)
