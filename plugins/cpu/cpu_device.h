// cpu_device.h: registration of the "cpu" device API (host memory).
#pragma once

#include "kiln/kiln_plugin.h"

namespace kiln_cpu {

kiln_status* register_cpu_device(kiln_registrar* registrar);

}  // namespace kiln_cpu
