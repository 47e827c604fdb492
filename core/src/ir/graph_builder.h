// GraphBuilder: the one way values, nodes and weights enter a Graph (the C ABI and the .kiln
// loader both go through it), so names, types and op schemas are checked the same way
// everywhere. Every call leaves the graph unchanged when it fails.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln {

class GraphBuilder {
 public:
  // Indexes the names already in `graph`, which must outlive the builder and must not be
  // changed other than through it.
  explicit GraphBuilder(Graph* graph);

  StatusOr<ValueId> add_input(const std::string& name, TensorType type);

  // `node` has op, inputs, attrs and optionally name and device; its outputs are filled here.
  // An empty name is generated ("add_3"); an empty device is inherited from the first input.
  // Output values are named `output_names` if given, else the node's name (one output) or
  // "<name>.<i>". A core op's types are inferred and checked against `stated` if given; a
  // custom op's are `stated`, and the op is recorded in the graph's requirements.
  StatusOr<std::vector<ValueId>> add_node(Node node, const std::vector<TensorType>& stated,
                                          const std::vector<std::string>& output_names = {});

  // `weight` has name and at most one source; its value is created here with `type`, which must
  // have static dims. Inline data must match the type exactly; an external source gets the
  // type's byte size as length unless one is set, and must then agree with it.
  StatusOr<ValueId> add_weight(Weight weight, TensorType type);

  Status set_outputs(const std::vector<ValueId>& outputs);

  // "<base>_<n>" for the first n (counting per base) that no value or node has taken.
  std::string unique_name(const std::string& base);
  // The value of that name, if any.
  std::optional<ValueId> find_value(const std::string& name) const;

  // The subgraphs that `call`, `cond` and `while_loop` nodes may name: by default the graph's
  // own list; a subgraph under construction uses its main graph's (which must outlive it).
  void set_callable_subgraphs(const std::vector<Graph>* subgraphs) { callables_ = subgraphs; }
  const std::vector<Graph>* callable_subgraphs() const { return callables_; }

 private:
  StatusOr<std::vector<ValueId>> add_node_checked(Node node, const std::vector<TensorType>& stated,
                                                  const std::vector<std::string>& output_names);
  StatusOr<std::vector<TensorType>> structural_output_types(
      const Node& node, const std::vector<TensorType>& inputs,
      const std::vector<TensorType>& stated) const;
  bool name_taken(const std::string& name) const;
  Status check_new_value_name(const std::string& name, const std::string& what) const;
  ValueId push_value(std::string name, TensorType type, int32_t producer);

  Graph* graph_;
  std::unordered_map<std::string, ValueId> values_by_name_;
  std::unordered_set<std::string> node_names_;
  std::unordered_map<std::string, uint64_t> next_suffix_;
  const std::vector<Graph>* callables_;
};

}  // namespace kiln
