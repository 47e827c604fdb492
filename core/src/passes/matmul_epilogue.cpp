// Matmul epilogue fusion: matmul -> add(bias of shape [N]) -> activation, or any prefix of the
// epilogue, becomes one kiln.fused_matmul node. On the CPU the bias and activation run as oneDNN
// post-ops inside the GEMM, so the product is never written out and read back.
#include <optional>

#include "passes/passes.h"

namespace kiln {
namespace {

// The kiln.fused_matmul activation for an elementwise node, if it has one.
std::optional<std::string> activation_of(const Node& node) {
  if (node.op == "relu" || node.op == "sigmoid" || node.op == "tanh" || node.op == "silu") {
    return node.op;
  }
  if (node.op == "gelu") {
    const Attribute* a = find_attr(node, "approximate");
    const std::string* mode = a ? std::get_if<std::string>(&a->value) : nullptr;
    if (a == nullptr || (mode != nullptr && *mode == "none")) return std::string("gelu");
    if (mode != nullptr && *mode == "tanh") return std::string("gelu_tanh");
  }
  return std::nullopt;
}

}  // namespace

size_t fuse_matmul_epilogues(const PassContext& ctx, Graph& graph) {
  if (!has_kernel_everywhere(ctx, "kiln.fused_matmul", DType::kFloat32)) return 0;
  const UseInfo info = compute_uses(graph);
  std::vector<int32_t> consumer(graph.values.size(), -1);  // the only reader, when there is one
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ValueId id : graph.nodes[n].inputs) consumer[id] = static_cast<int32_t>(n);
  }
  // The one node that reads `id`, if nothing else (graph outputs included) does.
  auto sole_reader = [&](ValueId id) -> Node* {
    if (info.uses[id] != 1 || info.is_output[id] || consumer[id] < 0) return nullptr;
    return &graph.nodes[consumer[id]];
  };

  std::vector<bool> removed(graph.nodes.size(), false);
  size_t fused = 0;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    Node& mm = graph.nodes[n];
    if (removed[n] || mm.op != "matmul" || mm.outputs.size() != 1) continue;
    const TensorType& product = graph.value(mm.outputs[0]).type;
    if (product.dtype != DType::kFloat32 || product.shape.empty()) continue;
    auto same_device = [&](const Node* other) { return other->device == mm.device; };

    Node* last = &mm;
    std::optional<ValueId> bias;
    Node* add = sole_reader(mm.outputs[0]);
    if (add != nullptr && add->op == "add" && add->inputs.size() == 2 && same_device(add) &&
        add->inputs[0] != add->inputs[1]) {
      const ValueId other = add->inputs[0] == mm.outputs[0] ? add->inputs[1] : add->inputs[0];
      const TensorType& b = graph.value(other).type;
      if (b.dtype == DType::kFloat32 && b.shape.size() == 1 && b.shape[0] == product.shape.back()) {
        bias = other;
        last = add;
      }
    }
    std::string activation = "none";
    if (Node* act = sole_reader(last->outputs[0]); act != nullptr && same_device(act)) {
      if (std::optional<std::string> a = activation_of(*act)) {
        activation = *a;
        last = act;
      }
    }
    if (last == &mm) continue;

    Node fused_node;
    fused_node.op = "kiln.fused_matmul";
    fused_node.name = mm.name;
    fused_node.inputs = mm.inputs;
    if (bias) fused_node.inputs.push_back(*bias);
    fused_node.outputs = last->outputs;
    fused_node.attrs["activation"].value = activation;
    fused_node.device = mm.device;
    // The fused node takes the place of the chain's last node: the bias is defined by then.
    removed[n] = true;
    *last = std::move(fused_node);
    removed[last - graph.nodes.data()] = false;
    if (add != nullptr && bias && add != last) removed[add - graph.nodes.data()] = true;
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
