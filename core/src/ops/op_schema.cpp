// The op registry: one table of core op schemas, and the entry points that check a node's
// operand count, attribute names and input types before running the op's inference.
#include "ops/op_schema.h"

#include <algorithm>

#include "ir/limits.h"
#include "ops/op_table.h"

namespace kiln {
namespace {

const std::vector<OpSchema>& schema_table() {
  static const std::vector<OpSchema> table = [] {
    std::vector<OpSchema> t;
    add_elementwise_schemas(t);
    add_shape_schemas(t);
    add_indexing_schemas(t);
    add_reduction_schemas(t);
    add_nn_schemas(t);
    add_fused_schemas(t);
    add_conv_schemas(t);
    add_signal_schemas(t);
    add_quant_schemas(t);
    add_misc_schemas(t);
    add_collective_schemas(t);
    std::sort(t.begin(), t.end(),
              [](const OpSchema& a, const OpSchema& b) { return a.name < b.name; });
    return t;
  }();
  return table;
}

const OpSchema* find_schema(std::string_view op) {
  const auto& table = schema_table();
  auto it =
      std::lower_bound(table.begin(), table.end(), op,
                       [](const OpSchema& s, std::string_view name) { return s.name < name; });
  return it != table.end() && it->name == op ? &*it : nullptr;
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

Status check_input_count(const OpContext& ctx) {
  const OpSchema& s = ctx.schema;
  const size_t n = ctx.inputs.size();
  if (n >= s.min_inputs && n <= s.max_inputs) return Status::ok();
  std::string expected;
  if (s.min_inputs == s.max_inputs) {
    expected = std::to_string(s.min_inputs);
  } else if (s.max_inputs == SIZE_MAX) {
    expected = "at least " + std::to_string(s.min_inputs);
  } else {
    expected = std::to_string(s.min_inputs) + " or " + std::to_string(s.max_inputs);
  }
  std::string roles = s.operands.empty() ? "" : " (" + join(s.operands) + ")";
  const bool one = s.min_inputs == 1 && (s.max_inputs == 1 || s.max_inputs == SIZE_MAX);
  return ctx.error("takes " + expected + " input" + (one ? "" : "s") + roles + ", got " +
                   std::to_string(n));
}

Status check_attr_names(const OpContext& ctx) {
  for (const auto& [name, attr] : ctx.node.attrs) {
    const auto& accepted = ctx.schema.attrs;
    if (std::find(accepted.begin(), accepted.end(), name) != accepted.end()) continue;
    return ctx.error("unknown attribute '" + name + "' (" + ctx.node.op + " accepts " +
                     (accepted.empty() ? std::string("no attributes") : join(accepted)) + ")");
  }
  return Status::ok();
}

// Input types come from a verified graph, but this is also the first line of defence for
// callers that build types by hand.
Status check_input_types(const OpContext& ctx) {
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const TensorType& t = ctx.inputs[i];
    if (t.buffer) {
      return ctx.error(ctx.operand(i) + " is a mutable buffer (" + t.to_string() +
                       "); load it with buffer_load first");
    }
    if (!dtype_is_valid(static_cast<int32_t>(t.dtype))) {
      return ctx.error(ctx.operand(i) + " has an unknown dtype code " +
                       std::to_string(static_cast<int32_t>(t.dtype)));
    }
    if (t.shape.size() > kMaxRank) {
      return ctx.error(ctx.operand(i) + " has rank " + std::to_string(t.shape.size()) +
                       ", over the limit of " + std::to_string(kMaxRank));
    }
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (t.shape[d].is_static() && t.shape[d].value() < 0) {
        return ctx.error(ctx.operand(i) + " has a negative dim " + std::to_string(d) + " in " +
                         shape_to_string(t.shape));
      }
    }
  }
  return Status::ok();
}

}  // namespace

StatusOr<std::vector<TensorType>> infer_output_types(const Node& node,
                                                     const std::vector<TensorType>& inputs) {
  const OpSchema* schema = find_schema(node.op);
  if (schema == nullptr) {
    return not_found("unknown op '" + node.op + "'" +
                     (node.name.empty() ? std::string() : " in node '" + node.name + "'"));
  }
  const OpContext ctx{node, inputs, *schema};
  KILN_RETURN_IF_ERROR(check_input_count(ctx));
  KILN_RETURN_IF_ERROR(check_attr_names(ctx));
  KILN_RETURN_IF_ERROR(check_input_types(ctx));
  KILN_ASSIGN_OR_RETURN(std::vector<TensorType> outputs, schema->infer(ctx));
  // Placement: the node's own device, else that of its first input.
  const std::string& device =
      !node.device.empty() ? node.device : (inputs.empty() ? node.device : inputs[0].device);
  const bool by_operand = places_outputs_by_operand(node.op);
  for (size_t i = 0; i < outputs.size(); ++i) {
    TensorType& t = outputs[i];
    if (t.shape.size() > kMaxRank) {
      return ctx.error("the output would have rank " + std::to_string(t.shape.size()) +
                       ", over the limit of " + std::to_string(kMaxRank));
    }
    t.device = by_operand && i < inputs.size() ? inputs[i].device : device;
  }
  return outputs;
}

StatusOr<std::vector<TensorType>> resolve_output_types(const Node& node,
                                                       const std::vector<TensorType>& inputs,
                                                       const std::vector<TensorType>& stated) {
  if (!is_core_op(node.op)) {
    // A custom op with buffer operands writes them in place (inplace_custom) and may have no
    // outputs; buffers are graph inputs only, never outputs.
    const bool in_place =
        std::any_of(inputs.begin(), inputs.end(), [](const TensorType& t) { return t.buffer; });
    if (stated.empty() && !in_place) {
      return invalid_argument(describe_node(node) +
                              ": custom op needs its output types stated (it has no inference)");
    }
    for (size_t i = 0; i < stated.size(); ++i) {
      if (stated[i].buffer) {
        return invalid_argument(describe_node(node) + ": output " + std::to_string(i) +
                                " is stated as a buffer (" + stated[i].to_string() +
                                "); only graph inputs can be buffers");
      }
    }
    return stated;
  }
  KILN_ASSIGN_OR_RETURN(std::vector<TensorType> inferred, infer_output_types(node, inputs));
  if (stated.empty()) return inferred;
  if (stated.size() != inferred.size()) {
    return invalid_argument(describe_node(node) + ": " + std::to_string(stated.size()) +
                            " output types are stated but " + node.op + " has " +
                            std::to_string(inferred.size()) + " output");
  }
  for (size_t i = 0; i < stated.size(); ++i) {
    if (stated[i] != inferred[i]) {
      return invalid_argument(describe_node(node) + ": output " + std::to_string(i) +
                              " is stated as " + stated[i].to_string() + " but inference gives " +
                              inferred[i].to_string());
    }
    if (!stated[i].device.empty()) inferred[i].device = stated[i].device;
  }
  return inferred;
}

bool is_core_op(std::string_view op) { return find_schema(op) != nullptr; }

std::vector<std::string> core_op_names() {
  std::vector<std::string> names;
  for (const OpSchema& s : schema_table()) names.emplace_back(s.name);
  return names;  // the table is sorted
}

bool is_host_handled_op(std::string_view op) {
  return op == "constant" || op == "transfer_to" || op == "allgather" || op == "reshape";
}

bool places_outputs_by_operand(std::string_view op) { return op == "allgather"; }

}  // namespace kiln
