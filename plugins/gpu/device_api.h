// device_api.h: the kiln_device_api table that registers the GPUs of a Backend with the host.
#ifndef KILN_PLUGINS_GPU_DEVICE_API_H_
#define KILN_PLUGINS_GPU_DEVICE_API_H_

#include "kiln/kiln_plugin.h"

namespace kiln::gpu {

class Backend;

// The table's user_data is `backend`, which must outlive the process's use of the table.
kiln_device_api make_device_api(Backend* backend);

}  // namespace kiln::gpu

#endif  // KILN_PLUGINS_GPU_DEVICE_API_H_
