// Kernel selection: among the kernels of a runtime's plugins for a node's op and device API that
// accept the dtype of the operand they select on, the highest priority wins (ties: the first
// registered). Without one, the error lists what does exist.
#pragma once

#include <vector>

#include "base/status.h"
#include "ir/graph.h"
#include "kiln/kiln.h"
#include "runtime/plugin_record.h"

namespace kiln {

StatusOr<const KernelEntry*> select_kernel(const std::vector<LoadedPlugin*>& plugins,
                                           const Node& node, const std::vector<TensorType>& inputs,
                                           const std::vector<TensorType>& outputs,
                                           const kiln_device* device);

}  // namespace kiln
