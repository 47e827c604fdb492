// elementwise.h: registration of the GPU plugin's elementwise kernels.
#ifndef KILN_PLUGINS_GPU_ELEMENTWISE_H_
#define KILN_PLUGINS_GPU_ELEMENTWISE_H_

#include "kiln/kiln_plugin.h"

namespace kiln::gpu {

class Backend;

// Registers float32 `add` (same-shape operands) for this plugin's device API. Returns the host's
// status on failure.
kiln_status* register_elementwise_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                          Backend* backend);

}  // namespace kiln::gpu

#endif  // KILN_PLUGINS_GPU_ELEMENTWISE_H_
