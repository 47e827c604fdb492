// Why each node got its kernel: the same rules as kernel_selection.cpp (device API, dtype of the
// selecting operand, highest priority, first registered on ties), stated per rejected candidate.
#include "passes/placement_report.h"

#include "runtime/device.h"
#include "runtime/model.h"

namespace kiln {
namespace {

std::string dtypes_of(const KernelEntry& k) {
  if (k.dtypes.empty()) return "any dtype";
  std::string out;
  for (int32_t d : k.dtypes) out += (out.empty() ? "" : ", ") + dtype_name(static_cast<DType>(d));
  return out;
}

// The dtype `k` selects on for `node`, as kernel selection reads it.
DType selecting_dtype(const Graph& g, const Node& node, const KernelEntry& k) {
  if (k.dtype_source == -1) {
    return node.outputs.empty() ? DType::kInvalid : g.value(node.outputs[0]).type.dtype;
  }
  const size_t i = static_cast<size_t>(k.dtype_source);
  return i < node.inputs.size() ? g.value(node.inputs[i]).type.dtype : DType::kInvalid;
}

std::string why_not(const Graph& g, const Step& step, const KernelEntry& k) {
  const Node& node = *step.node;
  const std::string& api = step.device->device->api_name();
  if (k.device_api != api) {
    return "device API '" + k.device_api + "', but the node runs on " + step.device->spec + " ('" +
           api + "')";
  }
  const DType dtype = selecting_dtype(g, node, k);
  if (dtype == DType::kInvalid) {
    return "selects on input " + std::to_string(k.dtype_source) + ", which the node lacks";
  }
  if (!k.accepts_dtype(static_cast<int32_t>(dtype))) {
    return "accepts " + dtypes_of(k) + ", the node has " + dtype_name(dtype);
  }
  if (step.kernel != nullptr && k.priority < step.kernel->priority) {
    return "lower priority (" + std::to_string(k.priority) + " < " +
           std::to_string(step.kernel->priority) + ")";
  }
  return "equal priority " + std::to_string(k.priority) + ", registered after '" +
         step.kernel->name + "'";
}

}  // namespace

std::vector<NodeReport> describe_placement(const std::vector<LoadedPlugin*>& plugins,
                                           const Model& model) {
  const Graph& g = model.graph;
  std::vector<NodeReport> reports;
  reports.reserve(model.steps.size());
  for (const Step& step : model.steps) {
    const Node& node = *step.node;
    NodeReport r;
    for (ValueId id : node.inputs) r.input_names.push_back(g.value(id).name.c_str());
    for (ValueId id : node.outputs) r.output_names.push_back(g.value(id).name.c_str());
    if (step.kind == StepKind::kKernel && step.kernel != nullptr) {
      r.kernel = step.kernel->name;
      r.plugin = step.kernel->plugin->name;
      if (!step.fallback_reason.empty()) {
        r.rejected = "CPU fallback to " + step.device->spec + ": " + step.fallback_reason;
      }
      for (const LoadedPlugin* p : plugins) {
        for (const auto& k : p->kernels) {
          if (k->op != node.op || k.get() == step.kernel) continue;
          r.rejected += (r.rejected.empty() ? "" : "\n") + std::string("'") + k->name +
                        "' (plugin '" + p->name + "'): " + why_not(g, step, *k);
        }
      }
    }
    reports.push_back(std::move(r));
  }
  return reports;
}

}  // namespace kiln
