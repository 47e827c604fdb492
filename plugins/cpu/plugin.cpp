// plugin.cpp: the CPU plugin's entry point — its table, score() and initialize().
#include <string>

#include "cpu_device.h"
#include "host.h"
#include "kernels.h"
#include "kiln/kiln_plugin.h"
#include "thread_pool.h"
#include "vec.h"

namespace kiln_cpu {

namespace {

// Cheap and side-effect free. The kernel files are built for x86-64-v2 (SSE4.2, POPCNT), so a CPU
// without it must be refused here; this file itself is built for the plain baseline.
int32_t score(const char** out_reason) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("sse4.2") || !__builtin_cpu_supports("popcnt")) {
    if (out_reason) *out_reason = "the CPU plugin needs x86-64-v2 (SSE4.2 and POPCNT)";
    return 0;
  }
  if (cpu_has_avx2_fma()) {
    if (out_reason) *out_reason = "x86-64 with AVX2, FMA and F16C: vectorized kernels";
    return 20;
  }
  if (out_reason) *out_reason = "x86-64-v2 without AVX2: baseline kernels";
  return 10;
#else
  if (out_reason) *out_reason = "portable build (no x86-64 vector paths)";
  return 5;
#endif
}

kiln_status* initialize(const kiln_host_api* host, kiln_registrar* registrar) {
  // Without status_create nothing can be reported; a conforming host never passes that.
  if (host == nullptr || host->status_create == nullptr) return nullptr;
  if (host->struct_size < offsetof(kiln_host_api, ctx_get_op_name) + sizeof(void*)) {
    return host->status_create(KILN_STATUS_FAILED_PRECONDITION,
                               "cpu plugin: the host's service table is older than ABI 1.0");
  }
  g_host = host;
  try {
    KILN_CPU_TRY(register_cpu_device(registrar));
    KILN_CPU_TRY(register_elementwise_kernels(registrar));
    KILN_CPU_TRY(register_cast_kernels(registrar));
    KILN_CPU_TRY(register_matmul_kernels(registrar));
    KILN_CPU_TRY(register_layout_kernels(registrar));
    KILN_CPU_TRY(register_index_kernels(registrar));
    KILN_CPU_TRY(register_reduction_kernels(registrar));
    KILN_CPU_TRY(register_normalization_kernels(registrar));
    KILN_CPU_TRY(register_sort_kernels(registrar));
    KILN_CPU_TRY(register_conv_kernels(registrar));
    KILN_CPU_TRY(register_signal_kernels(registrar));
    KILN_CPU_TRY(register_quant_kernels(registrar));
    KILN_CPU_TRY(register_misc_kernels(registrar));
  } catch (...) {
    return host->status_create(KILN_STATUS_INTERNAL, "cpu plugin: initialization failed");
  }
  if (host->log) {
    const std::string line = "registered " + std::to_string(registered_kernel_count()) +
                             " kernels; vector loops: " + vec().isa;
    host->log(KILN_LOG_DEBUG, "cpu", line.c_str());
  }
  return nullptr;
}

void shutdown() { shutdown_thread_pool(); }

const kiln_plugin_api kPluginApi = {
    sizeof(kiln_plugin_api),
    KILN_PLUGIN_ABI_VERSION,
    "cpu",
    "0.1.0",
    score,
    initialize,
    shutdown,
    nullptr,
};

}  // namespace

}  // namespace kiln_cpu

extern "C" {
KILN_PLUGIN_DEFINE_ENTRY(kiln_cpu::kPluginApi)
}
