// Session::load: re-verifies the graph (never trusting its stored types), places every value on
// a session device, binds a kernel to every node, uploads weights and constants, and computes
// each value's last use for the executor's buffer reuse.
#include <map>
#include <set>

#include "ops/control_flow.h"
#include "ops/op_schema.h"
#include "passes/passes.h"
#include "runtime/device.h"
#include "runtime/kernel_selection.h"
#include "runtime/model.h"
#include "runtime/plugin_record.h"
#include "serialize/serialize.h"

namespace kiln {
namespace {

std::string value_name(const Graph& g, ValueId id) { return "'" + g.value(id).name + "'"; }

Status check_value_id(const Graph& g, ValueId id, const std::string& where) {
  if (id < 0 || static_cast<size_t>(id) >= g.values.size()) {
    return invalid_argument(where + " refers to value #" + std::to_string(id) +
                            ", but the graph has " + std::to_string(g.values.size()) + " values");
  }
  return Status::ok();
}

const OpEntry* find_custom_op(const std::vector<LoadedPlugin*>& plugins, const std::string& op) {
  for (const LoadedPlugin* p : plugins)
    for (const auto& o : p->ops)
      if (o->name == op) return o.get();
  return nullptr;
}

Status check_custom_op(const std::vector<LoadedPlugin*>& plugins, const Graph& g,
                       const Node& node) {
  const OpEntry* op = find_custom_op(plugins, node.op);
  if (op == nullptr) {
    std::string hint;
    for (const OpRequirement& r : g.requirements) {
      if (r.op == node.op && !r.plugin.empty()) {
        hint = "; the graph says it comes from plugin '" + r.plugin + "'" +
               (r.plugin_version.empty() ? "" : " " + r.plugin_version) + ", which is not loaded";
      }
    }
    return not_found(describe_node(node) + ": op '" + node.op +
                     "' is not a core op and no loaded plugin registers it" + hint);
  }
  auto outside = [](size_t n, int32_t lo, int32_t hi) {
    return n < static_cast<size_t>(lo) || (hi >= 0 && n > static_cast<size_t>(hi));
  };
  if (outside(node.inputs.size(), op->min_inputs, op->max_inputs) ||
      outside(node.outputs.size(), op->min_outputs, op->max_outputs)) {
    return invalid_argument(
        describe_node(node) + " has " + std::to_string(node.inputs.size()) + " inputs and " +
        std::to_string(node.outputs.size()) + " outputs; plugin '" + op->plugin->name +
        "' defines '" + op->name + "' with inputs [" + std::to_string(op->min_inputs) + ", " +
        std::to_string(op->max_inputs) + "] and outputs [" + std::to_string(op->min_outputs) +
        ", " + std::to_string(op->max_outputs) + "] (-1: unbounded)");
  }
  return Status::ok();
}

// Every reference in range, every value defined once and before use, and every node's output
// types equal to what its op infers from its inputs.
Status verify(const std::vector<LoadedPlugin*>& plugins, const Graph& g,
              const std::vector<Graph>& callables) {
  std::vector<bool> defined(g.values.size(), false);
  auto define = [&](ValueId id, const std::string& where) -> Status {
    KILN_RETURN_IF_ERROR(check_value_id(g, id, where));
    if (defined[id])
      return invalid_argument(where + ": value " + value_name(g, id) + " is defined twice");
    const TensorType& t = g.value(id).type;
    if (!dtype_is_valid(static_cast<int32_t>(t.dtype))) {
      return invalid_argument(where + ": value " + value_name(g, id) +
                              " has an unknown dtype code " +
                              std::to_string(static_cast<int32_t>(t.dtype)));
    }
    for (size_t d = 0; d < t.shape.size(); ++d) {
      if (t.shape[d].is_static() && t.shape[d].value() < 0) {
        return invalid_argument(where + ": value " + value_name(g, id) + " has negative dim " +
                                std::to_string(d));
      }
    }
    defined[id] = true;
    return Status::ok();
  };
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    KILN_RETURN_IF_ERROR(define(g.inputs[i], "graph input " + std::to_string(i)));
  }
  for (const Weight& w : g.weights)
    KILN_RETURN_IF_ERROR(define(w.value, "weight '" + w.name + "'"));

  for (const Node& node : g.nodes) {
    const std::string where = describe_node(node);
    std::vector<TensorType> inputs;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      const ValueId id = node.inputs[k];
      KILN_RETURN_IF_ERROR(check_value_id(g, id, where + " input " + std::to_string(k)));
      if (!defined[id]) {
        return invalid_argument(where + " input " + std::to_string(k) + " uses value " +
                                value_name(g, id) + " before it is produced");
      }
      inputs.push_back(g.value(id).type);
    }
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      KILN_RETURN_IF_ERROR(define(node.outputs[k], where + " output " + std::to_string(k)));
    }
    const bool structural = is_structural_op(node.op);
    if (!is_core_op(node.op) && !structural) {
      KILN_RETURN_IF_ERROR(check_custom_op(plugins, g, node));
      continue;
    }
    KILN_ASSIGN_OR_RETURN(std::vector<TensorType> inferred,
                          structural ? infer_structural_op_types(node, inputs, callables)
                                     : infer_output_types(node, inputs));
    if (inferred.size() != node.outputs.size()) {
      return invalid_argument(where + " has " + std::to_string(node.outputs.size()) +
                              " outputs but its op gives " + std::to_string(inferred.size()));
    }
    for (size_t k = 0; k < inferred.size(); ++k) {
      const TensorType& stored = g.value(node.outputs[k]).type;
      if (!(stored == inferred[k])) {
        return invalid_argument(where + " output " + std::to_string(k) + " is recorded as " +
                                stored.to_string() + " but its inputs give " +
                                inferred[k].to_string());
      }
    }
  }
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const std::string where = "graph output " + std::to_string(i);
    KILN_RETURN_IF_ERROR(check_value_id(g, g.outputs[i], where));
    if (!defined[g.outputs[i]]) {
      return invalid_argument(where + " is value " + value_name(g, g.outputs[i]) +
                              ", which nothing produces");
    }
  }
  return Status::ok();
}

// Output i on the device of operand i (allgather); the operands' devices must all differ.
Status place_by_operand(const Node& node, Model& m) {
  if (node.outputs.size() != node.inputs.size()) {
    return invalid_argument(describe_node(node) + " has " + std::to_string(node.inputs.size()) +
                            " operands but " + std::to_string(node.outputs.size()) +
                            " outputs; it needs one output per operand");
  }
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    kiln_device* device = m.values[node.inputs[k]].device;
    for (size_t j = 0; j < k; ++j) {
      if (m.values[node.inputs[j]].device->device != device->device) continue;
      return invalid_argument(describe_node(node) + ": operands " + std::to_string(j) + " and " +
                              std::to_string(k) + " are both placed on " + device->spec + "; " +
                              node.op + " takes one operand per device");
    }
    m.values[node.outputs[k]].device = device;
  }
  return Status::ok();
}

// allgather runs as copies onto each output's device (the device copy path, as transfer_to)
// followed by that device's `concat` kernel; the kernels are chosen here.
Status bind_allgather(const std::vector<LoadedPlugin*>& plugins, const Model& m, Step& step) {
  const Node& node = *step.node;
  auto concat = std::make_shared<Node>();
  concat->op = "concat";
  concat->name = node.name;
  concat->inputs = node.inputs;
  if (const Attribute* axis = find_attr(node, "axis")) concat->attrs.emplace("axis", *axis);
  std::vector<TensorType> inputs;
  for (ValueId id : node.inputs) inputs.push_back(m.graph.value(id).type);
  for (ValueId id : node.outputs) {
    kiln_device* device = m.values[id].device;
    auto kernel = select_kernel(plugins, *concat, inputs, {m.graph.value(id).type}, device);
    if (!kernel.is_ok()) {
      return kernel.status().with_context(describe_node(node) + ": joining the operands on " +
                                          device->spec + " needs a concat kernel");
    }
    step.concat_kernels.push_back(*kernel);
  }
  step.concat_node = std::move(concat);
  step.kind = StepKind::kAllgather;
  return Status::ok();
}

// A constant with no device of its own whose every consumer runs on one other device is uploaded
// there at load (as ONNX Runtime places initializers), instead of being copied there on every
// execution: the graph builder's constants default to the CPU even in a graph that runs on a GPU.
void move_constants_to_consumers(Model& m) {
  const Graph& g = m.graph;
  std::vector<kiln_device*> consumer(g.values.size(), nullptr);
  std::vector<bool> mixed(g.values.size(), false);
  for (const Step& step : m.steps) {
    for (ValueId id : step.node->inputs) {
      if (consumer[id] == nullptr) {
        consumer[id] = step.device;
      } else if (consumer[id]->device != step.device->device) {
        mixed[id] = true;
      }
    }
  }
  for (ValueId id : g.outputs) mixed[id] = true;  // returned as placed
  for (Step& step : m.steps) {
    const Node& node = *step.node;
    if (node.op != "constant" || !node.device.empty() || node.outputs.size() != 1) continue;
    const ValueId out = node.outputs[0];
    kiln_device* target = consumer[out];
    if (target == nullptr || mixed[out] || target->device == step.device->device) continue;
    step.device = target;
    m.values[out].device = target;
  }
}

Status place(const Session& session, Model& m) {
  const Graph& g = m.graph;
  auto resolve = [&](const std::string& ref, const std::string& what) -> StatusOr<kiln_device*> {
    auto d = session.resolve_device_ref(ref);
    if (!d.is_ok()) return d.status().with_context(what);
    return d;
  };
  for (ValueId id : g.inputs) {
    KILN_ASSIGN_OR_RETURN(m.values[id].device,
                          resolve(g.value(id).type.device, "graph input " + value_name(g, id)));
  }
  for (const Weight& w : g.weights) {
    KILN_ASSIGN_OR_RETURN(m.values[w.value].device,
                          resolve(g.value(w.value).type.device, "weight '" + w.name + "'"));
  }
  // Values that are weights or constants: they do not decide where their consumers run.
  std::vector<bool> resident(g.values.size(), false);
  for (const Weight& w : g.weights) resident[w.value] = true;
  for (const Node& node : g.nodes) {
    kiln_device* device = nullptr;
    if (!node.device.empty()) {
      KILN_ASSIGN_OR_RETURN(device, resolve(node.device, describe_node(node)));
    } else if (!node.inputs.empty()) {
      // The device of the first operand computed at run time (an input or a node's result), so
      // that add(constant, x) runs where x lives; with only weights and constants, operand 0's.
      device = m.values[node.inputs[0]].device;
      for (ValueId id : node.inputs) {
        if (!resident[id]) {
          device = m.values[id].device;
          break;
        }
      }
    } else {
      const std::string& ref =
          node.outputs.empty() ? node.device : g.value(node.outputs[0]).type.device;
      KILN_ASSIGN_OR_RETURN(device, resolve(ref, describe_node(node)));
    }
    for (ValueId id : node.outputs) m.values[id].device = device;
    if (places_outputs_by_operand(node.op)) {
      KILN_RETURN_IF_ERROR(place_by_operand(node, m));
    }
    if (node.op == "constant") {
      for (ValueId id : node.outputs) resident[id] = true;
    }
    Step step;
    step.node = &node;
    step.device = device;
    m.steps.push_back(std::move(step));
  }
  move_constants_to_consumers(m);
  return Status::ok();
}

// The accelerator a model can be replayed on as one device graph, or null: every input and every
// step on it (kernels, views and constants only: no fallback, transfer, control flow, buffer or
// print step, which the host runs between kernels) and its device API able to capture graphs.
kiln_device* replay_device(const Model& m) {
  kiln_device* device = nullptr;
  auto same = [&](kiln_device* d) {
    if (device == nullptr) device = d;
    return d->device == device->device;
  };
  for (ValueId id : m.graph.inputs) {
    if (m.graph.value(id).type.buffer || !same(m.values[id].device)) return nullptr;
  }
  for (const Weight& w : m.graph.weights) {
    if (!same(m.values[w.value].device)) return nullptr;
  }
  for (const Step& step : m.steps) {
    const bool plain = step.kind == StepKind::kKernel || step.kind == StepKind::kReshape ||
                       step.kind == StepKind::kConstant;
    if (!plain || !same(step.device)) return nullptr;
  }
  if (device == nullptr || device->device->is_host() || !device->device->has_graphs()) {
    return nullptr;
  }
  return device;
}

// The models of the subgraphs a control-flow step runs; `loaded` holds those listed before the
// graph being loaded, which are all it may call.
Status bind_subgraphs(Step& step, const std::vector<std::shared_ptr<const Model>>& loaded) {
  const Node& node = *step.node;
  std::vector<std::string> attrs = {"callee"};
  if (node.op == "cond") attrs = {"then_branch", "else_branch"};
  if (node.op == "while_loop") attrs = {"predicate", "body"};
  for (const std::string& attr : attrs) {
    KILN_ASSIGN_OR_RETURN(std::string name, get_string_attr(node, attr));
    const Model* found = nullptr;
    for (const auto& sub : loaded)
      if (sub->graph.name == name) found = sub.get();
    if (found == nullptr) {
      return invalid_argument(describe_node(node) + ": attribute '" + attr + "' names subgraph '" +
                              name + "', which is not listed before the graph that calls it " +
                              "(a subgraph may call only subgraphs listed before it)");
    }
    step.subgraphs.push_back(found);
  }
  step.kind = StepKind::kSubgraph;
  return Status::ok();
}

// Buffer operands are read and written where they live: a buffer op, or a plugin op taking a
// buffer (inplace_custom), must run on the buffer's device, or its writes would go to a copy.
Status check_buffer_device(const Model& m, const Step& step) {
  const Node& node = *step.node;
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    const ValueId id = node.inputs[k];
    if (!m.graph.value(id).type.buffer) continue;
    const kiln_device* device = m.values[id].device;
    if (device->device != step.device->device) {
      return invalid_argument(describe_node(node) + ": operand " + std::to_string(k) +
                              " is the buffer " + value_name(m.graph, id) + " on " + device->spec +
                              " but the node runs on " + step.device->spec +
                              "; a buffer is written in place, so its ops run on its device");
    }
  }
  return Status::ok();
}

// The host device a kernel step may fall back to when its accelerator has no kernel for it, or
// null: never from the host itself, never when the session disables it, and never for a node
// taking a buffer (its writes must land in the buffer, which lives on the accelerator).
kiln_device* fallback_device(const Model& m, const Step& step) {
  if (step.device->device->is_host() || !m.session->cpu_fallback()) return nullptr;
  for (ValueId id : step.node->inputs)
    if (m.graph.value(id).type.buffer) return nullptr;
  return m.session->runtime().host_device();
}

Status bind_kernels(const std::vector<LoadedPlugin*>& plugins, Model& m,
                    const std::vector<std::shared_ptr<const Model>>& loaded) {
  const Graph& g = m.graph;
  for (Step& step : m.steps) {
    const Node& node = *step.node;
    if (is_control_flow_op(node.op)) {
      KILN_RETURN_IF_ERROR(bind_subgraphs(step, loaded));
      continue;
    }
    if (node.op == "transfer_to") {
      step.kind = StepKind::kTransfer;
      continue;
    }
    if (node.op == "allgather") {
      KILN_RETURN_IF_ERROR(bind_allgather(plugins, m, step));
      continue;
    }
    if (node.op == "print") {
      step.kind = StepKind::kPrint;
      continue;
    }
    if (is_buffer_op(node.op)) {
      KILN_RETURN_IF_ERROR(check_buffer_device(m, step));
      step.kind = node.op == "buffer_load" ? StepKind::kBufferLoad : StepKind::kBufferStore;
      continue;
    }
    if (node.op == "constant") {
      step.kind = StepKind::kConstant;
      continue;
    }
    if (node.op == "reshape") {
      step.kind = StepKind::kReshape;  // every buffer the executor passes on is contiguous
      continue;
    }
    KILN_RETURN_IF_ERROR(check_buffer_device(m, step));
    std::vector<TensorType> inputs, outputs;
    for (ValueId id : node.inputs) inputs.push_back(g.value(id).type);
    for (ValueId id : node.outputs) outputs.push_back(g.value(id).type);
    auto kernel = select_kernel(plugins, node, inputs, outputs, step.device);
    if (!kernel.is_ok()) {
      if (kiln_device* host = fallback_device(m, step)) {
        auto on_host = select_kernel(plugins, node, inputs, outputs, host);
        if (on_host.is_ok()) {
          step.fallback_reason = kernel.status().message();
          step.device = host;
          for (ValueId id : node.outputs) m.values[id].device = host;
          kernel = std::move(on_host);
        }
      }
    }
    KILN_ASSIGN_OR_RETURN(step.kernel, std::move(kernel));
    step.kind = StepKind::kKernel;
  }
  return Status::ok();
}

StatusOr<std::vector<int64_t>> static_shape(const TensorType& type, const std::string& what) {
  std::vector<int64_t> shape;
  for (const Dim& d : type.shape) {
    if (!d.is_static())
      return invalid_argument(what + " has the symbolic type " + type.to_string());
    shape.push_back(d.value());
  }
  return shape;
}

StatusOr<TensorPtr> upload(const HostTensor& host, const TensorType& type, kiln_device* device,
                           const std::string& what) {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, static_shape(type, what));
  if (host.dtype != type.dtype || host.shape != shape) {
    TensorType got;
    got.dtype = host.dtype;
    for (int64_t d : host.shape) got.shape.push_back(d);
    return invalid_argument(what + " holds " + got.to_string() + " but its value is " +
                            type.to_string());
  }
  auto t = tensor_create_from_host(device, type.dtype, shape, host.data(), host.byte_size());
  if (!t.is_ok()) return t.status().with_context(what + " on " + device->spec);
  return t;
}

Status upload_weights(const LoadOptions& options, Model& m) {
  Graph& g = m.graph;
  std::map<std::string, kiln_tensor*> supplied;
  for (const auto& [name, tensor] : options.weights) {
    if (!supplied.emplace(name, tensor).second) {
      return invalid_argument("kiln_load_options supplies weight '" + name + "' twice");
    }
  }
  std::set<std::string> names;
  for (const Weight& w : g.weights) names.insert(w.name);
  for (const auto& [name, tensor] : supplied) {
    if (names.count(name) == 0) {
      std::string known;
      for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
      return invalid_argument("kiln_load_options supplies weight '" + name +
                              "', which the graph does not have (its weights: " +
                              (known.empty() ? "none" : known) + ")");
    }
  }
  for (Weight& w : g.weights) {
    const TensorType& type = g.value(w.value).type;
    kiln_device* device = m.values[w.value].device;
    const std::string what = "weight '" + w.name + "'";
    TensorPtr tensor;
    if (auto it = supplied.find(w.name); it != supplied.end()) {
      const kiln_tensor* t = it->second;
      KILN_ASSIGN_OR_RETURN(std::vector<int64_t> shape, static_shape(type, what));
      if (t->dtype != type.dtype || t->shape != shape) {
        TensorType got;
        got.dtype = t->dtype;
        for (int64_t d : t->shape) got.shape.push_back(d);
        return invalid_argument(what + " supplied in kiln_load_options is " + got.to_string() +
                                " but the graph declares " + type.to_string());
      }
      if (t->device()->device == device->device && t->is_contiguous()) {
        tensor.reset(tensor_retain(const_cast<kiln_tensor*>(t)));  // retained, as documented
      } else {
        KILN_ASSIGN_OR_RETURN(tensor, tensor_copy_to_device(t, device));
      }
    } else if (w.inline_data) {
      KILN_ASSIGN_OR_RETURN(tensor, upload(*w.inline_data, type, device, what));
    } else if (w.external) {
      KILN_ASSIGN_OR_RETURN(HostTensor host, read_external_weight(g, w));
      KILN_ASSIGN_OR_RETURN(tensor, upload(host, type, device, what));
    } else {
      return not_found(what + " (" + type.to_string() +
                       ") has no data in the graph; supply it by name in kiln_load_options");
    }
    m.resident[w.value] = std::move(tensor);
    w.inline_data.reset();  // the device copy is what executions use
  }
  return Status::ok();
}

Status upload_constants(Model& m) {
  for (Step& step : m.steps) {
    if (step.kind != StepKind::kConstant) continue;
    Node& node = const_cast<Node&>(*step.node);  // the model's own copy
    const std::string what = describe_node(node);
    KILN_ASSIGN_OR_RETURN(const HostTensor* value, get_tensor_attr(node, "value"));
    if (node.outputs.size() != 1) return invalid_argument(what + " must have one output");
    const ValueId out = node.outputs[0];
    KILN_ASSIGN_OR_RETURN(m.resident[out], upload(*value, m.graph.value(out).type, step.device,
                                                  what + " attribute 'value'"));
    node.attrs.erase("value");
  }
  return Status::ok();
}

// Last use of every value: a value goes back to the free list right after the step that reads it
// last (or right after its producer when nothing reads it). Graph outputs are never released.
void plan_releases(Model& m) {
  const Graph& g = m.graph;
  std::vector<int32_t> last_use(g.values.size(), -1);
  for (size_t s = 0; s < m.steps.size(); ++s) {
    for (ValueId id : m.steps[s].node->inputs) last_use[id] = static_cast<int32_t>(s);
    for (ValueId id : m.steps[s].node->outputs)
      if (last_use[id] < 0) last_use[id] = static_cast<int32_t>(s);
  }
  for (ValueId id : g.outputs) m.values[id].is_output = true;
  std::vector<bool> planned(g.values.size(), false);
  for (size_t s = m.steps.size(); s-- > 0;) {
    auto consider = [&](ValueId id) {
      if (planned[id] || m.values[id].is_output || last_use[id] != static_cast<int32_t>(s)) return;
      planned[id] = true;
      m.steps[s].release_after.push_back(id);
    };
    for (ValueId id : m.steps[s].node->inputs) consider(id);
    for (ValueId id : m.steps[s].node->outputs) consider(id);
  }
}

SpecStorage make_spec(const Model& m, ValueId id) {
  const Value& v = m.graph.value(id);
  SpecStorage s;
  s.value = id;
  s.name = v.name;
  s.dtype = static_cast<int32_t>(v.type.dtype);
  for (const Dim& d : v.type.shape) {
    s.shape.push_back(d.is_static() ? d.value() : -1);
    s.exprs.push_back(d.is_static() ? "" : d.to_string());
  }
  s.device = m.values[id].device->spec;
  s.is_buffer = v.type.buffer;
  return s;
}

void finish_spec(SpecStorage& s) {
  s.expr_ptrs.clear();
  for (size_t i = 0; i < s.exprs.size(); ++i) {
    s.expr_ptrs.push_back(s.shape[i] >= 0 ? nullptr : s.exprs[i].c_str());
  }
}

// The weights of `options` that `graph` declares (each graph of a model uploads its own).
LoadOptions options_for(const Graph& graph, const LoadOptions& options) {
  LoadOptions out = options;
  out.weights.clear();
  for (const auto& supplied : options.weights) {
    for (const Weight& w : graph.weights)
      if (w.name == supplied.first) out.weights.push_back(supplied);
  }
  return out;
}

// Loads one graph. `callables`: the subgraphs its control-flow nodes may name; `loaded`: the
// models of those listed before it.
StatusOr<std::shared_ptr<Model>> load_graph(std::shared_ptr<Session> session, const Graph& graph,
                                            const std::vector<Graph>& callables,
                                            const std::vector<std::shared_ptr<const Model>>& loaded,
                                            const LoadOptions& options) {
  const std::vector<LoadedPlugin*> plugins = session->runtime().plugins();
  KILN_RETURN_IF_ERROR(verify(plugins, graph, callables));
  auto m = std::make_shared<Model>();
  m->session = session;
  m->graph = graph;
  m->graph.subgraphs.clear();  // each is loaded as a model of its own
  if (session->graph_passes() && !options.skip_passes) {
    KILN_RETURN_IF_ERROR(run_graph_passes(*session, m->graph));
  }
  m->values.resize(graph.values.size());
  m->resident.resize(graph.values.size());
  KILN_RETURN_IF_ERROR(place(*session, *m));
  KILN_RETURN_IF_ERROR(bind_kernels(plugins, *m, loaded));
  m->node_reports = describe_placement(plugins, *m);
  if (session->graph_replay()) m->replay_device = replay_device(*m);
  m->profile_count = std::make_unique<std::atomic<uint64_t>[]>(m->steps.size());
  m->profile_nanoseconds = std::make_unique<std::atomic<uint64_t>[]>(m->steps.size());
  KILN_RETURN_IF_ERROR(upload_weights(options, *m));
  KILN_RETURN_IF_ERROR(upload_constants(*m));
  plan_releases(*m);
  for (const TensorPtr& t : m->resident)
    if (t) m->resident_storages.insert(t->storage.get());
  for (ValueId id : m->graph.inputs) m->input_specs.push_back(make_spec(*m, id));
  for (ValueId id : m->graph.outputs) m->output_specs.push_back(make_spec(*m, id));
  for (SpecStorage& s : m->input_specs) finish_spec(s);
  for (SpecStorage& s : m->output_specs) finish_spec(s);
  return m;
}

}  // namespace

void SpecStorage::fill(kiln_tensor_spec* out) const {
  out->name = name.c_str();
  out->dtype = dtype;
  out->rank = shape.size();
  out->shape = shape.empty() ? nullptr : shape.data();
  out->dim_exprs = expr_ptrs.empty() ? nullptr : expr_ptrs.data();
  out->device = device.c_str();
}

StatusOr<std::shared_ptr<Model>> load_model(std::shared_ptr<Session> session, const Graph& graph,
                                            const LoadOptions& options) {
  std::set<std::string> weight_names;
  for (const Weight& w : graph.weights) weight_names.insert(w.name);
  for (const Graph& sub : graph.subgraphs)
    for (const Weight& w : sub.weights) weight_names.insert(w.name);
  for (const auto& [name, tensor] : options.weights) {
    if (weight_names.count(name) == 0) {
      std::string known;
      for (const std::string& n : weight_names) known += (known.empty() ? "" : ", ") + n;
      return invalid_argument("kiln_load_options supplies weight '" + name +
                              "', which the graph does not have (its weights: " +
                              (known.empty() ? "none" : known) + ")");
    }
  }
  // Subgraphs first, in order: each may call only those before it, so calls never cycle.
  std::vector<std::shared_ptr<const Model>> subs;
  for (const Graph& sub : graph.subgraphs) {
    auto model = load_graph(session, sub, graph.subgraphs, subs, options_for(sub, options));
    if (!model.is_ok()) return model.status().with_context("subgraph '" + sub.name + "'");
    subs.push_back(std::move(model).value());
  }
  KILN_ASSIGN_OR_RETURN(std::shared_ptr<Model> m, load_graph(session, graph, graph.subgraphs, subs,
                                                             options_for(graph, options)));
  m->subgraph_models = std::move(subs);
  return m;
}

StatusOr<std::shared_ptr<Model>> Session::load(const Graph& graph, const LoadOptions& options) {
  return load_model(shared_from_this(), graph, options);
}

}  // namespace kiln
