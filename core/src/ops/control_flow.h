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
// `print` (attribute `label`; operands: none, or the tensor to print): an effect the executor
// performs, so its node has no outputs and is never removed as dead code.
bool is_effect_op(std::string_view op);
// Control-flow and effect ops: checked here, not in the core op table.
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

}  // namespace kiln
