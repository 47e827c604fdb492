// GraphBuilder: checked construction of a Graph, shared by the C ABI and the .kiln loader.
#include "ir/graph_builder.h"

#include <algorithm>

#include "ir/checked_math.h"
#include "ir/type_checks.h"
#include "ops/control_flow.h"
#include "ops/op_schema.h"

namespace kiln {

GraphBuilder::GraphBuilder(Graph* graph) : graph_(graph), callables_(&graph->subgraphs) {
  for (size_t i = 0; i < graph_->values.size(); ++i) {
    values_by_name_.emplace(graph_->values[i].name, static_cast<ValueId>(i));
  }
  for (const Node& node : graph_->nodes) node_names_.insert(node.name);
}

bool GraphBuilder::name_taken(const std::string& name) const {
  return values_by_name_.count(name) != 0 || node_names_.count(name) != 0;
}

std::string GraphBuilder::unique_name(const std::string& base) {
  uint64_t& next = next_suffix_[base];
  while (true) {
    std::string candidate = base + "_" + std::to_string(next++);
    if (!name_taken(candidate)) return candidate;
  }
}

std::optional<ValueId> GraphBuilder::find_value(const std::string& name) const {
  auto it = values_by_name_.find(name);
  if (it == values_by_name_.end()) return std::nullopt;
  return it->second;
}

Status GraphBuilder::check_new_value_name(const std::string& name, const std::string& what) const {
  if (name.empty()) return invalid_argument(what + " has an empty name");
  if (values_by_name_.count(name) != 0) {
    return already_exists(what + ": the name '" + name + "' is already taken by a value");
  }
  return Status::ok();
}

ValueId GraphBuilder::push_value(std::string name, TensorType type, int32_t producer) {
  const auto id = static_cast<ValueId>(graph_->values.size());
  values_by_name_.emplace(name, id);
  graph_->values.push_back(Value{std::move(name), std::move(type), producer});
  return id;
}

StatusOr<ValueId> GraphBuilder::add_input(const std::string& name, TensorType type) {
  const std::string what = "input '" + name + "'";
  KILN_RETURN_IF_ERROR(check_new_value_name(name, what));
  KILN_RETURN_IF_ERROR(check_tensor_type(type, what));
  const ValueId id = push_value(name, std::move(type), -1);
  graph_->inputs.push_back(id);
  return id;
}

StatusOr<std::vector<ValueId>> GraphBuilder::add_node(
    Node node, const std::vector<TensorType>& stated,
    const std::vector<std::string>& output_names) {
  // A failed call must not change which names later calls generate.
  const bool generated = node.name.empty();
  const uint64_t saved_hint = generated ? next_suffix_[node.op] : 0;
  const std::string op = node.op;
  auto result = add_node_checked(std::move(node), stated, output_names);
  if (!result.is_ok() && generated) next_suffix_[op] = saved_hint;
  return result;
}

StatusOr<std::vector<TensorType>> GraphBuilder::structural_output_types(
    const Node& node, const std::vector<TensorType>& inputs,
    const std::vector<TensorType>& stated) const {
  KILN_ASSIGN_OR_RETURN(std::vector<TensorType> types,
                        infer_structural_op_types(node, inputs, *callables_));
  if (stated.empty()) return types;
  if (stated.size() != types.size()) {
    return invalid_argument(describe_node(node) + ": " + std::to_string(stated.size()) +
                            " stated output types, but its subgraphs give " +
                            std::to_string(types.size()));
  }
  for (size_t i = 0; i < types.size(); ++i) {
    if (!(stated[i] == types[i])) {
      return invalid_argument(describe_node(node) + ": stated output type " + std::to_string(i) +
                              " is " + stated[i].to_string() + " but its subgraphs give " +
                              types[i].to_string());
    }
    if (!stated[i].device.empty()) types[i].device = stated[i].device;
  }
  return types;
}

StatusOr<std::vector<ValueId>> GraphBuilder::add_node_checked(
    Node node, const std::vector<TensorType>& stated,
    const std::vector<std::string>& output_names) {
  if (node.op.empty()) return invalid_argument("a node has an empty op name");
  const bool generated = node.name.empty();
  if (generated) {
    node.name = unique_name(node.op);
  } else if (node_names_.count(node.name) != 0) {
    return already_exists(describe_node(node) + ": a node with this name already exists");
  }
  std::vector<TensorType> input_types;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const ValueId id = node.inputs[i];
    if (id < 0 || static_cast<size_t>(id) >= graph_->values.size()) {
      return invalid_argument(describe_node(node) + ": input " + std::to_string(i) +
                              " is not a value of this graph");
    }
    input_types.push_back(graph_->values[static_cast<size_t>(id)].type);
  }
  if (node.device.empty() && !input_types.empty()) node.device = input_types[0].device;
  for (size_t i = 0; i < stated.size(); ++i) {
    KILN_RETURN_IF_ERROR(check_tensor_type(
        stated[i], describe_node(node) + ": stated output type " + std::to_string(i)));
  }
  std::vector<TensorType> types;
  if (is_structural_op(node.op)) {
    KILN_ASSIGN_OR_RETURN(types, structural_output_types(node, input_types, stated));
  } else {
    KILN_ASSIGN_OR_RETURN(types, resolve_output_types(node, input_types, stated));
  }
  if (!output_names.empty() && output_names.size() != types.size()) {
    return invalid_argument(describe_node(node) + ": " + std::to_string(output_names.size()) +
                            " output names for " + std::to_string(types.size()) + " outputs");
  }
  // Output value names; a generated node name is replaced until none of them is taken.
  std::vector<std::string> names;
  for (int attempt = 0;; ++attempt) {
    names.clear();
    for (size_t i = 0; i < types.size(); ++i) {
      if (!output_names.empty()) {
        names.push_back(output_names[i]);
      } else {
        names.push_back(types.size() == 1 ? node.name : node.name + "." + std::to_string(i));
      }
    }
    bool clash = false;
    for (size_t i = 0; i < names.size() && !clash; ++i) {
      clash = values_by_name_.count(names[i]) != 0 ||
              std::count(names.begin(), names.end(), names[i]) > 1;
    }
    if (!clash) break;
    if (!generated || !output_names.empty() || attempt > 1000) {
      for (size_t i = 0; i < names.size(); ++i) {
        const std::string what = describe_node(node) + " output " + std::to_string(i);
        KILN_RETURN_IF_ERROR(check_new_value_name(names[i], what));
        if (std::count(names.begin(), names.end(), names[i]) > 1) {
          return already_exists(what + ": the name '" + names[i] + "' is used twice");
        }
      }
    }
    node.name = unique_name(node.op);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      return invalid_argument(describe_node(node) + " output " + std::to_string(i) +
                              " has an empty name");
    }
  }
  // Everything is checked; from here on nothing fails but allocation.
  const bool custom = !is_core_op(node.op) && !is_structural_op(node.op);
  const auto index = static_cast<int32_t>(graph_->nodes.size());
  node.outputs.clear();
  for (size_t i = 0; i < types.size(); ++i) {
    node.outputs.push_back(push_value(names[i], std::move(types[i]), index));
  }
  if (custom) {
    const auto& reqs = graph_->requirements;
    const bool known = std::any_of(reqs.begin(), reqs.end(),
                                   [&](const OpRequirement& r) { return r.op == node.op; });
    if (!known) graph_->requirements.push_back(OpRequirement{node.op, "", ""});
  }
  node_names_.insert(node.name);
  std::vector<ValueId> outputs = node.outputs;
  graph_->nodes.push_back(std::move(node));
  return outputs;
}

StatusOr<ValueId> GraphBuilder::add_weight(Weight weight, TensorType type) {
  const std::string what = "weight '" + weight.name + "'";
  KILN_RETURN_IF_ERROR(check_new_value_name(weight.name, what));
  if (type.buffer) return invalid_argument(what + ": a weight cannot be a mutable buffer");
  KILN_ASSIGN_OR_RETURN(uint64_t bytes, static_byte_size(type, what));
  if (weight.inline_data && weight.external) {
    return invalid_argument(what + " has both inline data and an external source");
  }
  if (weight.inline_data) {
    const HostTensor& data = *weight.inline_data;
    KILN_RETURN_IF_ERROR(check_host_tensor(data, what + " data"));
    const Shape data_shape(data.shape.begin(), data.shape.end());
    if (data.dtype != type.dtype || data_shape != type.shape) {
      return invalid_argument(what + " has type " + type.to_string() + " but its data is " +
                              dtype_name(data.dtype) + shape_to_string(data_shape));
    }
  }
  if (weight.external) {
    ExternalRef& ref = *weight.external;
    KILN_RETURN_IF_ERROR(check_external_path(ref.path, what));
    if (ref.length == 0) ref.length = bytes;
    if (ref.length != bytes) {
      return invalid_argument(what + " has an external length of " + std::to_string(ref.length) +
                              " bytes but its type " + type.to_string() + " needs " +
                              std::to_string(bytes));
    }
    if (!checked_add_u64(ref.offset, ref.length)) {
      return out_of_range(what + ": external offset " + std::to_string(ref.offset) +
                          " plus length overflows");
    }
  }
  weight.value = push_value(weight.name, std::move(type), -1);
  graph_->weights.push_back(std::move(weight));
  return graph_->weights.back().value;
}

Status GraphBuilder::set_outputs(const std::vector<ValueId>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i] < 0 || static_cast<size_t>(outputs[i]) >= graph_->values.size()) {
      return invalid_argument("graph output " + std::to_string(i) +
                              " is not a value of this graph");
    }
    const Value& value = graph_->values[static_cast<size_t>(outputs[i])];
    if (value.type.buffer) {
      return invalid_argument("graph output " + std::to_string(i) + " is the mutable buffer '" +
                              value.name + "'; output a buffer_load of it instead");
    }
  }
  graph_->outputs = outputs;
  return Status::ok();
}

}  // namespace kiln
