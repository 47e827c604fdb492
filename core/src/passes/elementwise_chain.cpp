// Elementwise chain fusion: x -> op -> op -> ... where every intermediate is read only by the
// next op becomes one kiln.fused_elementwise node that the CPU plugin runs block by block in
// cache, so memory is read and written once instead of once per op. Matmul epilogues are fused
// first (that pass runs before this one), so bias + activation still go into the GEMM.
#include <optional>

#include "passes/passes.h"

namespace kiln {
namespace {

const std::set<std::string>& unary_steps() {
  static const std::set<std::string> kNames = {"negate", "abs",     "relu", "exp",
                                               "log",    "sqrt",    "rsqrt", "sigmoid",
                                               "tanh",   "silu",    "gelu", "gelu_tanh"};
  return kNames;
}

bool is_binary_step(const std::string& op) {
  return op == "add" || op == "sub" || op == "mul" || op == "div";
}

// The step a unary node contributes ("gelu_tanh" for gelu with approximate=tanh), if any.
std::optional<std::string> unary_step(const Node& node) {
  if (node.inputs.size() != 1) return std::nullopt;
  if (node.op == "gelu") {
    const Attribute* a = find_attr(node, "approximate");
    const std::string* mode = a ? std::get_if<std::string>(&a->value) : nullptr;
    if (a == nullptr || (mode != nullptr && *mode == "none")) return std::string("gelu");
    if (mode != nullptr && *mode == "tanh") return std::string("gelu_tanh");
    return std::nullopt;
  }
  if (!node.attrs.empty() || unary_steps().count(node.op) == 0) return std::nullopt;
  return node.op;
}

}  // namespace

bool valid_elementwise_steps(const std::string& steps, size_t num_inputs, std::string* why) {
  if (steps.empty()) {
    *why = "it lists no step";
    return false;
  }
  size_t start = 0;
  while (start <= steps.size()) {
    const size_t comma = std::min(steps.find(',', start), steps.size());
    const std::string step = steps.substr(start, comma - start);
    const size_t colon = step.find(':');
    if (colon == std::string::npos) {
      if (unary_steps().count(step) == 0) {
        *why = "'" + step + "' is not a unary step";
        return false;
      }
    } else {
      std::string op = step.substr(0, colon);
      if (!op.empty() && op[0] == 'r') op = op.substr(1);
      const std::string index = step.substr(colon + 1);
      if (!is_binary_step(op) || index.empty() || index.size() > 4 ||
          index.find_first_not_of("0123456789") != std::string::npos) {
        *why = "'" + step + "' is not <add|sub|mul|div>:<input> or r<op>:<input>";
        return false;
      }
      const size_t k = std::stoul(index);
      if (k == 0 || k >= num_inputs) {
        *why = "'" + step + "' names input " + index + " of " + std::to_string(num_inputs);
        return false;
      }
    }
    start = comma + 1;
  }
  return true;
}

size_t fuse_elementwise_chains(const PassContext& ctx, Graph& graph) {
  if (!has_kernel_everywhere(ctx, "kiln.fused_elementwise", DType::kFloat32)) return 0;
  const UseInfo info = compute_uses(graph);
  std::vector<int32_t> consumer(graph.values.size(), -1);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ValueId id : graph.nodes[n].inputs) consumer[id] = static_cast<int32_t>(n);
  }
  auto sole_reader = [&](ValueId id) -> int32_t {
    if (info.uses[id] != 1 || info.is_output[id]) return -1;
    return consumer[id];
  };
  auto is_f32 = [&](ValueId id) { return graph.value(id).type.dtype == DType::kFloat32; };

  // One node as a step on the chain value `chain` (of type `type`): its step text and the extra
  // operand it adds, if it fits.
  struct Step {
    std::string text;
    std::optional<ValueId> operand;
  };
  auto as_step = [&](const Node& node, ValueId chain, const TensorType& type) -> std::optional<Step> {
    if (node.outputs.size() != 1 || !is_f32(node.outputs[0]) ||
        !(graph.value(node.outputs[0]).type == type)) {
      return std::nullopt;
    }
    if (std::optional<std::string> u = unary_step(node)) {
      if (node.inputs[0] != chain) return std::nullopt;
      return Step{*u, std::nullopt};
    }
    if (!is_binary_step(node.op) || node.inputs.size() != 2 || !node.attrs.empty() ||
        node.inputs[0] == node.inputs[1]) {
      return std::nullopt;
    }
    const bool left = node.inputs[0] == chain;
    if (!left && node.inputs[1] != chain) return std::nullopt;
    const ValueId other = left ? node.inputs[1] : node.inputs[0];
    const TensorType& t = graph.value(other).type;
    if (!is_f32(other) || !(t.shape.empty() || t.shape == type.shape)) return std::nullopt;
    return Step{(left ? "" : "r") + node.op, other};
  };

  std::vector<bool> removed(graph.nodes.size(), false);
  size_t fused = 0;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (removed[n]) continue;
    Node& first = graph.nodes[n];
    if (first.outputs.size() != 1) continue;
    const TensorType type = graph.value(first.outputs[0]).type;
    // The chain's input: the unary op's operand, or the binary op's operand of the output's shape.
    std::optional<ValueId> x;
    for (ValueId id : first.inputs) {
      if (is_f32(id) && graph.value(id).type.shape == type.shape) {
        x = id;
        break;
      }
    }
    if (!x) continue;
    std::optional<Step> head = as_step(first, *x, type);
    if (!head) continue;
    std::vector<Step> steps = {*head};
    std::vector<size_t> members = {n};
    ValueId chain = first.outputs[0];
    for (int32_t next = sole_reader(chain); next >= 0; next = sole_reader(chain)) {
      const Node& node = graph.nodes[static_cast<size_t>(next)];
      if (removed[static_cast<size_t>(next)] || node.device != first.device) break;
      std::optional<Step> step = as_step(node, chain, type);
      if (!step) break;
      steps.push_back(*step);
      members.push_back(static_cast<size_t>(next));
      chain = node.outputs[0];
    }
    if (members.size() < 2) continue;

    Node fused_node;
    fused_node.op = "kiln.fused_elementwise";
    fused_node.name = graph.nodes[members.back()].name;
    fused_node.inputs = {*x};
    std::string text;
    for (const Step& s : steps) {
      text += text.empty() ? "" : ",";
      text += s.text;
      if (s.operand) {
        fused_node.inputs.push_back(*s.operand);
        text += ":" + std::to_string(fused_node.inputs.size() - 1);
      }
    }
    fused_node.attrs["steps"].value = text;
    fused_node.outputs = {chain};
    fused_node.device = first.device;
    // It takes the place of the chain's last node: every operand is defined by then.
    for (size_t m : members) removed[m] = true;
    removed[members.back()] = false;
    graph.nodes[members.back()] = std::move(fused_node);
    ++fused;
  }
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    if (!removed[n]) kept.push_back(std::move(graph.nodes[n]));
  graph.nodes = std::move(kept);
  return fused;
}

}  // namespace kiln
