// Control-flow ops: `call`, `cond` and `while_loop` run subgraphs (Graph::subgraphs of the main
// graph), named by string attributes. Their output types come from the subgraphs they name, so
// they are checked here, outside the core op table, with the list of subgraphs they may call.
//
// Operands (each subgraph's inputs take node operands in order, captured outer values included):
//   call       (callee)                 inputs: the callee's inputs
//   cond       (then_branch, else_branch) inputs: pred (bool scalar), then's inputs, else's inputs
//   while_loop (predicate, body)         inputs: the n loop-carried values, then the predicate's
//              extra inputs, then the body's extra inputs; n is the body's output count.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln {

bool is_control_flow_op(std::string_view op);
// `print` (attribute `label`; operands: none, or the tensor to print), `buffer_store` and
// `buffer_store_slice`: effects the executor performs, so their nodes have no outputs and are
// never removed as dead code (nor reordered: nodes run in graph order).
bool is_effect_op(std::string_view op);
// The ops on mutable buffers (buffer_ops.cpp): buffer_load, buffer_store, buffer_store_slice.
// The executor runs them itself, in node order, on the buffer's device.
bool is_buffer_op(std::string_view op);
// Control-flow, effect and buffer ops: checked here, not in the core op table.
bool is_structural_op(std::string_view op);

// The subgraph named by the node's string attribute `attr`, with an error naming the node, the
// attribute and the subgraphs there are when it is missing.
StatusOr<const Graph*> find_subgraph(const Node& node, const std::string& attr,
                                     const std::vector<Graph>& subgraphs);

// Checks a structural node's operands and attributes (against the subgraphs a control-flow node
// names) and returns its output types (symbolic dims of a subgraph's inputs are replaced by the
// caller's dims).
StatusOr<std::vector<TensorType>> infer_structural_op_types(const Node& node,
                                                           const std::vector<TensorType>& inputs,
                                                           const std::vector<Graph>& subgraphs);

// Checks a buffer op's operands and attributes (buffer_ops.cpp) and returns its output types.
//   buffer_load        (buffer)                -> a tensor of the buffer's dtype and shape
//   buffer_store       (buffer, source)        -> nothing; source has the buffer's type
//   buffer_store_slice (buffer, source)        -> nothing; attributes starts, stops, steps and
//                      squeeze as slice_tensor's; source has the type of that slice
StatusOr<std::vector<TensorType>> infer_buffer_op_types(const Node& node,
                                                        const std::vector<TensorType>& inputs);

}  // namespace kiln
