// Type checking of `call`, `cond` and `while_loop` against the subgraphs they name. A subgraph's
// input types are its formal parameters: a plain symbolic dim ("n") binds to the caller's dim,
// any other dim must equal the caller's once those symbols are replaced, and the output types are
// the subgraph's with the same replacement.
#include <cctype>
#include <map>
#include <optional>

#include "ops/control_flow.h"

namespace kiln {
namespace {

using DimMap = std::map<std::string, Dim>;

std::string subgraph_label(const Graph& g) { return "subgraph '" + g.name + "'"; }

Status node_error(const Node& node, const std::string& message) {
  return invalid_argument(describe_node(node) + ": " + message);
}

// The name of `d` when it is one bare symbol ("batch", not "2*batch").
std::optional<std::string> plain_symbol(const Dim& d) {
  if (d.is_static()) return std::nullopt;
  std::vector<std::string> symbols = d.symbols();
  if (symbols.size() != 1 || d != Dim::symbol(symbols[0])) return std::nullopt;
  return std::move(symbols[0]);
}

// `d` with every bound symbol replaced by its dim (through the expression text, which Dim
// parses back into canonical form).
StatusOr<Dim> substitute(const Dim& d, const DimMap& map) {
  if (d.is_static() || map.empty()) return d;
  const std::string text = d.to_string();
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isalpha(c) && c != '_') {
      out += text[i++];
      continue;
    }
    size_t end = i;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_'))
      ++end;
    const std::string name = text.substr(i, end - i);
    auto it = map.find(name);
    out += it == map.end() ? name : "(" + it->second.to_string() + ")";
    i = end;
  }
  return Dim::parse(out);
}

StatusOr<TensorType> substitute(const TensorType& type, const DimMap& map) {
  TensorType out = type;
  for (Dim& d : out.shape) {
    KILN_ASSIGN_OR_RETURN(d, substitute(d, map));
  }
  return out;
}

// Binds the subgraph's input types to the operands `first`.. of the node and checks them.
StatusOr<DimMap> bind_inputs(const Node& node, const Graph& sub,
                             const std::vector<TensorType>& inputs, size_t first) {
  DimMap map;
  auto mismatch = [&](size_t k) {
    return node_error(node, "operand " + std::to_string(first + k) + " is " +
                                inputs[first + k].to_string() + " but input " + std::to_string(k) +
                                " '" + sub.value(sub.inputs[k]).name + "' of " +
                                subgraph_label(sub) + " is " +
                                sub.value(sub.inputs[k]).type.to_string());
  };
  for (size_t k = 0; k < sub.inputs.size(); ++k) {
    const TensorType& formal = sub.value(sub.inputs[k]).type;
    const TensorType& actual = inputs[first + k];
    if (formal.dtype != actual.dtype || formal.shape.size() != actual.shape.size())
      return mismatch(k);
    for (size_t d = 0; d < formal.shape.size(); ++d) {
      std::optional<std::string> name = plain_symbol(formal.shape[d]);
      if (!name) continue;
      auto [it, inserted] = map.emplace(std::move(*name), actual.shape[d]);
      if (!inserted && it->second != actual.shape[d]) return mismatch(k);
    }
  }
  for (size_t k = 0; k < sub.inputs.size(); ++k) {
    KILN_ASSIGN_OR_RETURN(TensorType formal, substitute(sub.value(sub.inputs[k]).type, map));
    if (!(formal == inputs[first + k])) return mismatch(k);
  }
  return map;
}

StatusOr<std::vector<TensorType>> output_types(const Graph& sub, const DimMap& map,
                                               const std::string& device) {
  std::vector<TensorType> out;
  for (ValueId id : sub.outputs) {
    KILN_ASSIGN_OR_RETURN(TensorType t, substitute(sub.value(id).type, map));
    if (t.device.empty()) t.device = device;
    out.push_back(std::move(t));
  }
  return out;
}

Status check_attrs(const Node& node, const std::vector<std::string>& accepted) {
  for (const auto& [name, attr] : node.attrs) {
    bool known = false;
    for (const std::string& a : accepted) known = known || a == name;
    if (known) continue;
    std::string list;
    for (const std::string& a : accepted) list += (list.empty() ? "" : ", ") + a;
    return node_error(node,
                      "unknown attribute '" + name + "' (" + node.op + " accepts " + list + ")");
  }
  return Status::ok();
}

Status check_count(const Node& node, size_t expected, size_t got, const std::string& why) {
  if (expected == got) return Status::ok();
  return node_error(node, "takes " + std::to_string(expected) + " operands (" + why + "), got " +
                              std::to_string(got));
}

Status check_bool_scalar(const Node& node, const TensorType& t, const std::string& what) {
  if (t.dtype == DType::kBool && t.shape.empty()) return Status::ok();
  return node_error(node, what + " must be a bool scalar, got " + t.to_string());
}

std::string node_device(const Node& node, const std::vector<TensorType>& inputs) {
  if (!node.device.empty()) return node.device;
  return inputs.empty() ? std::string() : inputs[0].device;
}

StatusOr<std::vector<TensorType>> infer_call(const Node& node,
                                             const std::vector<TensorType>& inputs,
                                             const std::vector<Graph>& subgraphs) {
  KILN_RETURN_IF_ERROR(check_attrs(node, {"callee"}));
  KILN_ASSIGN_OR_RETURN(const Graph* callee, find_subgraph(node, "callee", subgraphs));
  KILN_RETURN_IF_ERROR(check_count(node, callee->inputs.size(), inputs.size(),
                                   "the inputs of " + subgraph_label(*callee)));
  KILN_ASSIGN_OR_RETURN(DimMap map, bind_inputs(node, *callee, inputs, 0));
  return output_types(*callee, map, node_device(node, inputs));
}

StatusOr<std::vector<TensorType>> infer_cond(const Node& node,
                                             const std::vector<TensorType>& inputs,
                                             const std::vector<Graph>& subgraphs) {
  KILN_RETURN_IF_ERROR(check_attrs(node, {"else_branch", "then_branch"}));
  KILN_ASSIGN_OR_RETURN(const Graph* then_g, find_subgraph(node, "then_branch", subgraphs));
  KILN_ASSIGN_OR_RETURN(const Graph* else_g, find_subgraph(node, "else_branch", subgraphs));
  KILN_RETURN_IF_ERROR(check_count(node, 1 + then_g->inputs.size() + else_g->inputs.size(),
                                   inputs.size(),
                                   "the predicate, then the inputs of " + subgraph_label(*then_g) +
                                       " and of " + subgraph_label(*else_g)));
  KILN_RETURN_IF_ERROR(check_bool_scalar(node, inputs[0], "operand 0 (pred)"));
  KILN_ASSIGN_OR_RETURN(DimMap then_map, bind_inputs(node, *then_g, inputs, 1));
  KILN_ASSIGN_OR_RETURN(DimMap else_map,
                        bind_inputs(node, *else_g, inputs, 1 + then_g->inputs.size()));
  const std::string device = node_device(node, inputs);
  KILN_ASSIGN_OR_RETURN(auto then_types, output_types(*then_g, then_map, device));
  KILN_ASSIGN_OR_RETURN(auto else_types, output_types(*else_g, else_map, device));
  if (then_types.size() != else_types.size()) {
    return node_error(node, subgraph_label(*then_g) + " has " + std::to_string(then_types.size()) +
                                " outputs but " + subgraph_label(*else_g) + " has " +
                                std::to_string(else_types.size()));
  }
  for (size_t k = 0; k < then_types.size(); ++k) {
    if (!(then_types[k] == else_types[k])) {
      return node_error(node, "output " + std::to_string(k) + " of " + subgraph_label(*then_g) +
                                  " is " + then_types[k].to_string() + " but " +
                                  subgraph_label(*else_g) + " gives " + else_types[k].to_string());
    }
  }
  return then_types;
}

StatusOr<std::vector<TensorType>> infer_while(const Node& node,
                                              const std::vector<TensorType>& inputs,
                                              const std::vector<Graph>& subgraphs) {
  KILN_RETURN_IF_ERROR(check_attrs(node, {"body", "predicate"}));
  KILN_ASSIGN_OR_RETURN(const Graph* pred, find_subgraph(node, "predicate", subgraphs));
  KILN_ASSIGN_OR_RETURN(const Graph* body, find_subgraph(node, "body", subgraphs));
  const size_t n = body->outputs.size();
  if (n == 0) return node_error(node, subgraph_label(*body) + " has no outputs (loop values)");
  for (const Graph* g : {pred, body}) {
    if (g->inputs.size() < n) {
      return node_error(node, subgraph_label(*g) + " takes " + std::to_string(g->inputs.size()) +
                                  " inputs, fewer than the " + std::to_string(n) + " loop values");
    }
  }
  KILN_RETURN_IF_ERROR(check_count(node, pred->inputs.size() + body->inputs.size() - n,
                                   inputs.size(),
                                   std::to_string(n) + " loop values, then the extra inputs of " +
                                       subgraph_label(*pred) + " and of " + subgraph_label(*body)));
  // Each subgraph sees the loop values followed by its own extra operands.
  auto operands_of = [&](const Graph& g, size_t extra_first) {
    std::vector<TensorType> v(inputs.begin(), inputs.begin() + static_cast<ptrdiff_t>(n));
    v.insert(v.end(), inputs.begin() + static_cast<ptrdiff_t>(extra_first),
             inputs.begin() + static_cast<ptrdiff_t>(extra_first + g.inputs.size() - n));
    return v;
  };
  const std::vector<TensorType> pred_in = operands_of(*pred, n);
  const std::vector<TensorType> body_in = operands_of(*body, pred->inputs.size());
  KILN_ASSIGN_OR_RETURN(DimMap pred_map, bind_inputs(node, *pred, pred_in, 0));
  KILN_ASSIGN_OR_RETURN(DimMap body_map, bind_inputs(node, *body, body_in, 0));
  const std::string device = node_device(node, inputs);
  KILN_ASSIGN_OR_RETURN(auto pred_out, output_types(*pred, pred_map, device));
  if (pred_out.size() != 1) {
    return node_error(node, subgraph_label(*pred) + " must have one output (a bool scalar), has " +
                                std::to_string(pred_out.size()));
  }
  KILN_RETURN_IF_ERROR(
      check_bool_scalar(node, pred_out[0], "the output of " + subgraph_label(*pred)));
  KILN_ASSIGN_OR_RETURN(auto body_out, output_types(*body, body_map, device));
  for (size_t k = 0; k < n; ++k) {
    if (!(body_out[k] == inputs[k])) {
      return node_error(node, "output " + std::to_string(k) + " of " + subgraph_label(*body) +
                                  " is " + body_out[k].to_string() + " but loop value " +
                                  std::to_string(k) + " is " + inputs[k].to_string());
    }
    body_out[k].device = inputs[k].device.empty() ? device : inputs[k].device;
  }
  return body_out;
}

}  // namespace

bool is_control_flow_op(std::string_view op) {
  return op == "call" || op == "cond" || op == "while_loop";
}

bool is_effect_op(std::string_view op) {
  return op == "print" || op == "buffer_store" || op == "buffer_store_slice";
}

bool is_buffer_op(std::string_view op) {
  return op == "buffer_load" || op == "buffer_store" || op == "buffer_store_slice";
}

bool is_structural_op(std::string_view op) {
  return is_control_flow_op(op) || is_effect_op(op) || is_buffer_op(op);
}

StatusOr<const Graph*> find_subgraph(const Node& node, const std::string& attr,
                                     const std::vector<Graph>& subgraphs) {
  KILN_ASSIGN_OR_RETURN(std::string name, get_string_attr(node, attr));
  for (const Graph& g : subgraphs)
    if (g.name == name) return &g;
  std::string known;
  for (const Graph& g : subgraphs) known += (known.empty() ? "" : ", ") + g.name;
  return not_found(describe_node(node) + ": attribute '" + attr + "' names subgraph '" + name +
                   "', which does not exist (subgraphs: " + (known.empty() ? "none" : known) + ")");
}

StatusOr<std::vector<TensorType>> infer_structural_op_types(const Node& node,
                                                            const std::vector<TensorType>& inputs,
                                                            const std::vector<Graph>& subgraphs) {
  if (is_buffer_op(node.op)) return infer_buffer_op_types(node, inputs);
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (inputs[k].buffer) {
      return node_error(node, "operand " + std::to_string(k) + " is a mutable buffer (" +
                                  inputs[k].to_string() + "); load it with buffer_load first");
    }
  }
  if (node.op == "call") return infer_call(node, inputs, subgraphs);
  if (node.op == "cond") return infer_cond(node, inputs, subgraphs);
  if (node.op == "while_loop") return infer_while(node, inputs, subgraphs);
  if (node.op == "print") {
    KILN_RETURN_IF_ERROR(check_attrs(node, {"label"}));
    KILN_RETURN_IF_ERROR(get_string_attr(node, "label", std::string("debug_tensor")).status());
    if (inputs.size() > 1) {
      return node_error(node, "takes at most 1 operand (the tensor to print), got " +
                                  std::to_string(inputs.size()));
    }
    return std::vector<TensorType>{};
  }
  return internal_error(describe_node(node) + " is not a control-flow op");
}

}  // namespace kiln
