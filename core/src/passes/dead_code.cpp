// Dead code elimination, and the use counts the other passes match patterns with.
#include <algorithm>

#include "ops/op_schema.h"
#include "passes/passes.h"

namespace kiln {

UseInfo compute_uses(const Graph& graph) {
  UseInfo info;
  info.uses.assign(graph.values.size(), 0);
  info.producer.assign(graph.values.size(), -1);
  info.is_output.assign(graph.values.size(), false);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    for (ValueId id : node.inputs) ++info.uses[id];
    for (ValueId id : node.outputs) info.producer[id] = static_cast<int32_t>(n);
  }
  for (ValueId id : graph.outputs) {
    ++info.uses[id];
    info.is_output[id] = true;
  }
  return info;
}

size_t eliminate_dead_code(Graph& graph) {
  std::vector<bool> needed(graph.values.size(), false);
  for (ValueId id : graph.outputs) needed[id] = true;
  std::vector<bool> keep(graph.nodes.size(), false);
  for (size_t n = graph.nodes.size(); n-- > 0;) {
    const Node& node = graph.nodes[n];
    // Kept even when unused: plugin ops (which may have effects, e.g. inplace_custom writing a
    // buffer) and structural ops (control flow; print and buffer stores are effects). An unused
    // buffer_load only reads, so it may go.
    bool live = !is_core_op(node.op) && node.op != "buffer_load";
    for (ValueId id : node.outputs) live = live || needed[id];
    if (!live) continue;
    keep[n] = true;
    for (ValueId id : node.inputs) needed[id] = true;
  }
  const size_t before = graph.nodes.size();
  size_t n = 0;
  graph.nodes.erase(std::remove_if(graph.nodes.begin(), graph.nodes.end(),
                                   [&](const Node&) { return !keep[n++]; }),
                    graph.nodes.end());
  return before - graph.nodes.size();
}

}  // namespace kiln
