// The C ABI of introspection: the core op list (and every op a graph may name, by kind), the
// kernels plugins registered, and the nodes of a loaded model (after the graph passes) with the
// kernel each runs on.
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "api/c_status.h"
#include "api/runtime_handles.h"
#include "ops/control_flow.h"
#include "ops/op_schema.h"
#include "runtime/device.h"
#include "runtime/plugin_record.h"

namespace {

const std::vector<std::string>& op_names() {
  static const std::vector<std::string>* names =
      new std::vector<std::string>(kiln::core_op_names());
  return *names;
}

// The ops the executor handles without a schema: candidates checked against the predicates of
// ops/control_flow.h, so a name they drop is not listed (ops_test checks none is missing).
const char* const kStructuralOps[] = {"buffer_load", "buffer_store", "buffer_store_slice", "call",
                                      "cond",        "print",        "while_loop"};

kiln_op_kind op_kind(std::string_view op) {
  if (kiln::is_core_op(op)) {
    return kiln::is_host_handled_op(op) ? KILN_OP_KIND_EXECUTOR : KILN_OP_KIND_KERNEL;
  }
  if (kiln::is_control_flow_op(op)) return KILN_OP_KIND_CONTROL_FLOW;
  if (kiln::is_buffer_op(op)) return KILN_OP_KIND_BUFFER;
  if (kiln::is_effect_op(op)) return KILN_OP_KIND_EFFECT;
  return KILN_OP_KIND_UNKNOWN;
}

const std::vector<std::string>& graph_op_names() {
  static const std::vector<std::string>* names = [] {
    auto* out = new std::vector<std::string>(kiln::core_op_names());
    for (const char* op : kStructuralOps) {
      if (kiln::is_structural_op(op) && !kiln::is_core_op(op)) out->emplace_back(op);
    }
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
    return out;
  }();
  return *names;
}

// Copies the fields of `info` (its own struct_size first) that fit in the caller's struct_size.
template <class Info>
kiln_status* copy_out(const Info& info, Info* out, const char* function, const char* type) {
  if (out->struct_size < sizeof(size_t) + sizeof(void*)) {
    return kiln::make_c_status(kiln::StatusCode::kInvalidArgument,
                               std::string(function) + ": out_info->struct_size is " +
                                   std::to_string(out->struct_size) + "; set it to sizeof(" + type +
                                   ")");
  }
  const size_t size = std::min(out->struct_size, sizeof info);
  std::memcpy(reinterpret_cast<char*>(out) + sizeof(size_t),
              reinterpret_cast<const char*>(&info) + sizeof(size_t), size - sizeof(size_t));
  return nullptr;
}

kiln_status* out_of_range(const char* function, size_t index, size_t count, const char* what) {
  return kiln::make_c_status(kiln::StatusCode::kOutOfRange,
                             std::string(function) + ": index " + std::to_string(index) +
                                 " is out of range (there are " + std::to_string(count) + " " +
                                 what + ")");
}

}  // namespace

extern "C" {

size_t kiln_get_op_count(void) { return op_names().size(); }

const char* kiln_get_op_name(size_t index) {
  const auto& names = op_names();
  return index < names.size() ? names[index].c_str() : nullptr;
}

size_t kiln_get_graph_op_count(void) { return graph_op_names().size(); }

const char* kiln_get_graph_op_name(size_t index) {
  const auto& names = graph_op_names();
  return index < names.size() ? names[index].c_str() : nullptr;
}

int32_t kiln_get_op_kind(const char* op) {
  return op == nullptr ? KILN_OP_KIND_UNKNOWN : op_kind(op);
}

size_t kiln_runtime_get_kernel_count(const kiln_runtime* runtime) {
  if (runtime == nullptr) return 0;
  size_t count = 0;
  for (const kiln::LoadedPlugin* p : runtime->runtime->plugins()) count += p->kernels.size();
  return count;
}

kiln_status* kiln_runtime_get_kernel_info(const kiln_runtime* runtime, size_t index,
                                          kiln_kernel_info* out_info) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(runtime);
  KILN_CHECK_ARG(out_info);
  size_t left = index;
  for (const kiln::LoadedPlugin* p : runtime->runtime->plugins()) {
    if (left >= p->kernels.size()) {
      left -= p->kernels.size();
      continue;
    }
    // Plugin records are process-wide: these strings outlive the runtime.
    const kiln::KernelEntry& k = *p->kernels[left];
    kiln_kernel_info info{};
    info.struct_size = sizeof info;
    info.op = k.op.c_str();
    info.name = k.name.c_str();
    info.plugin = p->name.c_str();
    info.device_api = k.device_api.c_str();
    info.dtypes = k.dtypes.empty() ? nullptr : k.dtypes.data();
    info.num_dtypes = k.dtypes.size();
    info.dtype_source = k.dtype_source;
    info.priority = k.priority;
    return copy_out(info, out_info, __func__, "kiln_kernel_info");
  }
  return out_of_range(__func__, index, kiln_runtime_get_kernel_count(runtime), "kernels");
  KILN_API_END
}

size_t kiln_model_get_node_count(const kiln_model* model) {
  return model ? model->model->steps.size() : 0;
}

kiln_status* kiln_model_get_node_info(const kiln_model* model, size_t index,
                                      kiln_model_node_info* out_info) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(model);
  KILN_CHECK_ARG(out_info);
  const kiln::Model& m = *model->model;
  if (index >= m.steps.size()) return out_of_range(__func__, index, m.steps.size(), "nodes");
  const kiln::Step& step = m.steps[index];
  const kiln::NodeReport& r = m.node_reports[index];
  kiln_model_node_info info{};
  info.struct_size = sizeof info;
  info.op = step.node->op.c_str();
  info.name = step.node->name.c_str();
  info.device = step.device->spec.c_str();
  info.kernel = r.kernel.c_str();
  info.plugin = r.plugin.c_str();
  info.input_names = r.input_names.empty() ? nullptr : r.input_names.data();
  info.num_inputs = r.input_names.size();
  info.output_names = r.output_names.empty() ? nullptr : r.output_names.data();
  info.num_outputs = r.output_names.size();
  info.rejected = r.rejected.c_str();
  return copy_out(info, out_info, __func__, "kiln_model_node_info");
  KILN_API_END
}

kiln_status* kiln_model_set_profiling(kiln_model* model, int32_t enabled) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(model);
  kiln::Model& m = *model->model;
  if (enabled != 0) {
    m.profiling.store(false);
    for (size_t i = 0; i < m.steps.size(); ++i) {
      m.profile_count[i].store(0);
      m.profile_nanoseconds[i].store(0);
    }
  }
  m.profiling.store(enabled != 0);
  return nullptr;
  KILN_API_END
}

kiln_status* kiln_model_get_node_profile(const kiln_model* model, size_t index,
                                         kiln_node_profile* out_profile) {
  KILN_API_BEGIN
  KILN_CHECK_ARG(model);
  KILN_CHECK_ARG(out_profile);
  const kiln::Model& m = *model->model;
  if (index >= m.steps.size()) return out_of_range(__func__, index, m.steps.size(), "nodes");
  kiln_node_profile profile{};
  profile.struct_size = sizeof profile;
  profile.count = m.profile_count[index].load();
  profile.total_seconds = static_cast<double>(m.profile_nanoseconds[index].load()) * 1e-9;
  return copy_out(profile, out_profile, __func__, "kiln_node_profile");
  KILN_API_END
}

}  // extern "C"
