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

// The output types a node gets in a graph. A core op's come from inference, and `stated`, when
// not empty, must agree with them (a stated device is kept: placement is not type). Any other op
// is a plugin's custom op, whose types the graph states: `stated` must not be empty.
StatusOr<std::vector<TensorType>> resolve_output_types(const Node& node,
                                                       const std::vector<TensorType>& inputs,
                                                       const std::vector<TensorType>& stated);

bool is_core_op(std::string_view op);
std::vector<std::string> core_op_names();  // sorted

// Ops the executor handles itself, with no kernel ("constant" materializes its attribute
// "value" at load; "reshape" of a contiguous tensor is a view).
bool is_host_handled_op(std::string_view op);

// Ops whose output i lives on the device of operand i rather than on the node's device
// (collectives: "allgather"). Inference and placement both follow this.
bool places_outputs_by_operand(std::string_view op);

}  // namespace kiln
