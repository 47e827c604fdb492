// Kernel selection by op, device API, dtype and priority.
#include "runtime/kernel_selection.h"

#include <set>

#include "base/logging.h"
#include "runtime/device.h"
#include "runtime/runtime.h"

namespace kiln {
namespace {

// The dtype a kernel selects on for this node, or kInvalid when its dtype_source does not exist.
DType selecting_dtype(const KernelEntry& k, const std::vector<TensorType>& inputs,
                      const std::vector<TensorType>& outputs) {
  if (k.dtype_source == -1) return outputs.empty() ? DType::kInvalid : outputs[0].dtype;
  const size_t index = static_cast<size_t>(k.dtype_source);
  return index < inputs.size() ? inputs[index].dtype : DType::kInvalid;
}

std::string dtype_list(const KernelEntry& k) {
  if (k.dtypes.empty()) return "any dtype";
  std::string out;
  for (int32_t d : k.dtypes) out += (out.empty() ? "" : ", ") + dtype_name(static_cast<DType>(d));
  return out;
}

std::string operand_name(const KernelEntry& k) {
  return k.dtype_source == -1 ? "output 0" : "input " + std::to_string(k.dtype_source);
}

}  // namespace

StatusOr<const KernelEntry*> select_kernel(const std::vector<LoadedPlugin*>& plugins,
                                           const Node& node, const std::vector<TensorType>& inputs,
                                           const std::vector<TensorType>& outputs,
                                           const kiln_device* device) {
  const std::string& api = device->device->api_name();
  const KernelEntry* best = nullptr;
  for (const LoadedPlugin* p : plugins) {
    for (const auto& k : p->kernels) {
      if (k->op != node.op || k->device_api != api) continue;
      const DType dtype = selecting_dtype(*k, inputs, outputs);
      if (dtype == DType::kInvalid || !k->accepts_dtype(static_cast<int32_t>(dtype))) continue;
      if (best == nullptr || k->priority > best->priority) {
        best = k.get();
      } else if (k->priority == best->priority) {
        log_message(KILN_LOG_DEBUG, describe_node(node) + ": kernels '" + best->name + "' and '" +
                                        k->name + "' have equal priority " +
                                        std::to_string(k->priority) + "; using the first, '" +
                                        best->name + "'");
      }
    }
  }
  if (best != nullptr) return best;

  // Say what exists instead.
  const DType shown =
      !inputs.empty() ? inputs[0].dtype : (!outputs.empty() ? outputs[0].dtype : DType::kInvalid);
  std::string here;
  std::set<std::string> other_apis;
  for (const LoadedPlugin* p : plugins) {
    for (const auto& k : p->kernels) {
      if (k->op != node.op) continue;
      if (k->device_api != api) {
        other_apis.insert(k->device_api);
        continue;
      }
      here += (here.empty() ? "" : "; ") + std::string("'") + k->name + "' accepts " +
              dtype_list(*k) + " (of " + operand_name(*k) + ")";
    }
  }
  std::string message = "no kernel for " + describe_node(node) + " with dtype " +
                        dtype_name(shown) + " on device " + device->spec + " (device API '" + api +
                        "')";
  if (!here.empty()) {
    message += "; kernels for '" + node.op + "' on '" + api + "': " + here;
  } else if (!other_apis.empty()) {
    std::string list;
    for (const std::string& a : other_apis) list += (list.empty() ? "" : ", ") + a;
    message += "; kernels for '" + node.op + "' exist only for device APIs: " + list;
  } else {
    message += "; no loaded plugin has a kernel for op '" + node.op + "'";
  }
  return not_found(message);
}

}  // namespace kiln
