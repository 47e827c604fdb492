// Constant folding. A node is evaluated by loading a one-node graph (its constant inputs and the
// node itself, on the host) into the same session with the passes off and executing it: the
// folded value comes from the very kernels the graph would otherwise run, and no math is
// duplicated here. A node whose evaluation fails (no host kernel, bad data) is left as it was, so
// the graph reports the error at execution exactly as it would without the pass.
#include <set>

#include "base/logging.h"
#include "ops/op_schema.h"
#include "passes/passes.h"
#include "runtime/executor.h"
#include "runtime/model.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

namespace kiln {
namespace {

// Folded values stay resident in the model; past this a precomputed tensor costs more memory than
// the computation it saves.
constexpr size_t kMaxFoldedBytes = size_t{64} << 20;

bool foldable_op(const std::string& op) {
  static const std::set<std::string> kNever = {"constant", "transfer_to", "call",
                                               "cond",     "while_loop",  "allgather"};
  return is_core_op(op) && kNever.count(op) == 0 && op.find("random") == std::string::npos;
}

std::optional<size_t> static_bytes(const TensorType& type) {
  std::vector<int64_t> shape;
  for (const Dim& d : type.shape) {
    if (!d.is_static()) return std::nullopt;
    shape.push_back(d.value());
  }
  const std::optional<int64_t> count = static_num_elements(shape);
  if (!count) return std::nullopt;
  return static_cast<size_t>(*count) * dtype_size(type.dtype);
}

// The value of `node` (whose inputs are the single outputs of the `constant` nodes `sources`).
StatusOr<HostTensor> evaluate(Session& session, const Graph& g, const Node& node,
                              const std::vector<const Node*>& sources) {
  Graph mini;
  mini.name = "fold:" + node.name;
  Node target = node;
  target.device = "cpu";
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    Value v = g.value(node.inputs[i]);
    v.type.device = "cpu";
    Node source = *sources[i];
    source.device = "cpu";
    source.outputs = {static_cast<ValueId>(mini.values.size())};
    target.inputs[i] = source.outputs[0];
    mini.values.push_back(std::move(v));
    mini.nodes.push_back(std::move(source));
  }
  Value out = g.value(node.outputs[0]);
  out.type.device = "cpu";
  target.outputs = {static_cast<ValueId>(mini.values.size())};
  mini.values.push_back(std::move(out));
  mini.outputs = target.outputs;
  mini.nodes.push_back(std::move(target));

  LoadOptions options;
  options.skip_passes = true;
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Model> model, session.load(mini, options));
  kiln_tensor* raw = nullptr;
  KILN_RETURN_IF_ERROR(execute_model(*model, nullptr, 0, &raw, 1));
  TensorPtr result(raw);
  KILN_ASSIGN_OR_RETURN(TensorPtr dense, tensor_contiguous(result.get()));
  HostTensor host;
  host.dtype = dense->dtype;
  host.shape = dense->shape;
  const auto* begin = static_cast<const uint8_t*>(dense->data());
  host.bytes = std::make_shared<const std::vector<uint8_t>>(begin, begin + dense->byte_size());
  return host;
}

}  // namespace

StatusOr<size_t> fold_constants(const PassContext& ctx, Graph& graph) {
  if (ctx.session == nullptr) return size_t{0};
  UseInfo info = compute_uses(graph);
  size_t folded = 0;
  for (Node& node : graph.nodes) {
    // A node without operands (hann_window) depends on its attributes alone: it folds too.
    if (!foldable_op(node.op) || node.outputs.size() != 1) continue;
    std::vector<const Node*> sources;
    for (ValueId id : node.inputs) {
      const int32_t p = info.producer[id];
      if (p < 0 || graph.nodes[p].op != "constant") break;
      sources.push_back(&graph.nodes[p]);
    }
    if (sources.size() != node.inputs.size()) continue;
    const std::optional<size_t> bytes = static_bytes(graph.value(node.outputs[0]).type);
    if (!bytes || *bytes > kMaxFoldedBytes) continue;
    auto value = evaluate(*ctx.session, graph, node, sources);
    if (!value.is_ok()) {
      log_message(KILN_LOG_DEBUG, "constant folding left " + describe_node(node) +
                                      " as it is: " + value.status().message());
      continue;
    }
    // The constant lands where the node would have run: its own device ref, else its first
    // input's (a constant with no ref of its own resolves through its output type, as here).
    if (node.device.empty() && !sources.empty()) {
      node.device = !sources[0]->device.empty() ? sources[0]->device
                                                : graph.value(node.inputs[0]).type.device;
    }
    node.op = "constant";
    node.inputs.clear();
    node.attrs.clear();
    node.attrs["value"].value = std::move(value).value();
    ++folded;
  }
  return folded;
}

}  // namespace kiln
