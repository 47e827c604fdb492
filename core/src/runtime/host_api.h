// The kiln_host_api table handed to every plugin's initialize(): the host's services
// (statuses, logging, aligned host memory), registration and the kernel context accessors.
#pragma once

#include "kiln/kiln_plugin.h"

namespace kiln {

// Static storage; the same table for every plugin.
const kiln_host_api* host_api();

}  // namespace kiln
