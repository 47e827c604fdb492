// Op schemas: one per core op. Verification plus type and shape inference (symbolic dims too).
// Kernels live only in plugins; this file knows nothing about devices.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln {

// Verifies a node's inputs and attributes against the op's schema and returns its output
// types. Errors name the op, the node, the operand and the reason, e.g.
// "add 'node3': operand 1 has dtype int32 but operand 0 has float32".
StatusOr<std::vector<TensorType>> infer_output_types(const Node& node,
                                                     const std::vector<TensorType>& inputs);

bool is_core_op(std::string_view op);
std::vector<std::string> core_op_names();  // sorted

// Ops the executor handles itself, with no kernel ("constant" materializes its attribute
// "value" at load; "reshape" of a contiguous tensor is a view).
bool is_host_handled_op(std::string_view op);

}  // namespace kiln
