// The executor. Memory: each value's buffer is released after the step that reads it last; a
// tensor only this execution holds goes to a free list keyed by (device, byte size) and is reused
// by the next value of exactly that size: the tensor itself when the dtype and shape match too,
// else its storage. Reuse is per execution, so no locking is needed. Per-step cost matters (a
// graph of tiny ops is all overhead): the kernel path builds no strings unless something fails.
#include "runtime/executor.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "api/c_status.h"
#include "base/logging.h"
#include "ops/buffer_ops.h"
#include "runtime/device.h"
#include "runtime/input_binding.h"
#include "runtime/kernel_context.h"
#include "runtime/plugin_record.h"
#include "runtime/runtime.h"
#include "runtime/tensor_format.h"

namespace kiln {

// One captured execution of a model (graph replay): the device graph and the buffers it uses.
struct ReplayGraph {
  ReplayGraph() = default;
  ReplayGraph(const ReplayGraph&) = delete;
  ReplayGraph& operator=(const ReplayGraph&) = delete;
  ~ReplayGraph() {
    if (device == nullptr) return;
    device->destroy_graph(graph);
    for (const auto& [ptr, bytes] : scratch) device->deallocate(ptr, bytes);
  }

  Device* device = nullptr;
  void* graph = nullptr;
  std::vector<TensorPtr> inputs;   // the recorded execution's inputs: replays copy into them
  std::vector<TensorPtr> outputs;  // its outputs: replays copy out of them
  std::vector<TensorPtr> kept;     // every other buffer the recorded work reads or writes
  std::vector<std::pair<void*, size_t>> scratch;  // kernel scratch memory, likewise
  std::mutex run_mu;  // replays of one graph share its buffers: one at a time
};

namespace {

class Execution final : public OutputAllocator {
 public:
  explicit Execution(const Model& model) : model_(model), live_(model.values.size()) {}
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;
  // Work still queued (after a failure) finishes before the streams go back to their devices.
  ~Execution() {
    for (const auto& [device, stream] : streams_) {
      (void)device->stream_synchronize(stream);
      device->release_stream(stream);
    }
  }

  Status run(const kiln_tensor* const* inputs, kiln_tensor** outputs);
  // Records the steps on `inputs` (on the model's replay device) into `graph` instead of running
  // them: nothing returns to the device before the capture ends, and every buffer the recorded
  // work touches goes to `graph`.
  Status capture(ReplayGraph* graph, const kiln_tensor* const* inputs);

  StatusOr<TensorPtr> allocate(kiln_device* device, DType dtype,
                               const std::vector<int64_t>& shape) override {
    KILN_ASSIGN_OR_RETURN(int64_t count, checked_element_count(static_cast<int32_t>(dtype),
                                                               shape.data(), shape.size()));
    const size_t bytes = static_cast<size_t>(count) * dtype_size(dtype);
    auto it = free_.find({device->device, bytes});
    if (it != free_.end() && !it->second.empty()) {
      TensorPtr tensor = std::move(it->second.back());
      it->second.pop_back();
      // A tensor's metadata never changes, so one of this dtype and shape is reused as it is.
      if (tensor->dtype == dtype && tensor->shape == shape && tensor->offset == 0 &&
          tensor->is_contiguous()) {
        return tensor;
      }
      std::shared_ptr<Storage> storage = std::move(tensor->storage);
      tensor.reset();
      return tensor_over_storage(std::move(storage), dtype, shape);
    }
    return tensor_allocate(device, dtype, shape);
  }

 private:
  Status bind_inputs(const kiln_tensor* const* inputs);
  Status run_step(const Step& step);
  Status run_kernel(const Step& step);
  Status run_reshape(const Step& step);
  Status run_subgraph(const Step& step);
  Status run_print(const Step& step);
  Status run_buffer_load(const Step& step);
  Status run_buffer_store(const Step& step);
  Status run_allgather(const Step& step);
  // Calls `kernel` for `node` on `device`; errors name the kernel, the op and the node.
  Status call_kernel(const Node& node, const KernelEntry* kernel, kiln_device* device,
                     const std::vector<const kiln_tensor*>& inputs,
                     std::vector<KernelOutput>& outputs);
  // The value as a tensor on `device`, copied there (once per execution) when it lives elsewhere.
  StatusOr<const kiln_tensor*> operand(ValueId id, kiln_device* device, const std::string& what);
  void release(ValueId id);
  void recycle(TensorPtr tensor);
  // This execution's stream on `device` (taken from the device on first use), or nullptr for a
  // host device or one without streams. Kernels on an accelerator are queued on it and the host
  // waits only where it must: before it reads or copies a device's results (drain) and at the end.
  StatusOr<void*> stream_for(kiln_device* device);
  Status drain(const Device* device);
  Status drain_all();

  const Model& model_;
  std::vector<TensorPtr> live_;
  SymbolBindings bindings_;
  std::map<std::pair<ValueId, const Device*>, TensorPtr> transfers_;
  std::map<std::pair<const Device*, size_t>, std::vector<TensorPtr>> free_;
  // run_kernel's operands, outputs and output shape, kept to reuse their memory step after step.
  std::vector<const kiln_tensor*> kernel_inputs_;
  std::vector<KernelOutput> kernel_outputs_;
  std::vector<int64_t> output_shape_;
  std::vector<std::pair<Device*, void*>> streams_;  // taken from each device, given back at the end
  ReplayGraph* capture_ = nullptr;                   // set while recording a graph
};

StatusOr<void*> Execution::stream_for(kiln_device* device) {
  Device* d = device->device;
  if (d->is_host()) return nullptr;
  for (const auto& [have, stream] : streams_)
    if (have == d) return stream;
  auto stream = d->acquire_stream();
  if (!stream.is_ok()) return stream.status().with_context("a stream on " + device->spec);
  streams_.emplace_back(d, *stream);
  return *stream;
}

Status Execution::drain(const Device* device) {
  for (const auto& [have, stream] : streams_)
    if (have == device) return have->stream_synchronize(stream);
  return Status::ok();
}

Status Execution::drain_all() {
  for (const auto& [device, stream] : streams_) KILN_RETURN_IF_ERROR(device->stream_synchronize(stream));
  return Status::ok();
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

// A buffer input is the caller's tensor itself, so it must be usable in place: on the input's
// device, contiguous (kernels see contiguous tensors) and writable.
Status check_buffer_input(const kiln_tensor* t, const kiln_device* device,
                          const std::string& what) {
  if (t->device()->device != device->device) {
    return invalid_argument(what + " is a mutable buffer on " + device->spec +
                            " but the tensor given is on " + t->device()->spec +
                            "; a buffer is updated in place, so pass a tensor on its device");
  }
  if (!t->is_contiguous()) {
    return invalid_argument(what + " is a mutable buffer but the tensor given is not " +
                            "contiguous; pass a contiguous tensor");
  }
  if (t->storage->read_only) {
    return invalid_argument(what + " is a mutable buffer but the tensor given is read-only");
  }
  return Status::ok();
}

std::string describe_value(const Graph& g, ValueId id) {
  return "value '" + g.value(id).name + "'";
}

std::string describe_output(const Node& node, size_t k) {
  return describe_node(node) + " output " + std::to_string(k);
}

// The shape of a type whose dims are all static into *shape; false when a dim is symbolic.
bool static_shape(const TensorType& type, std::vector<int64_t>* shape) {
  shape->clear();
  for (const Dim& dim : type.shape) {
    if (!dim.is_static()) return false;
    shape->push_back(dim.value());
  }
  return true;
}

Status Execution::run(const kiln_tensor* const* inputs, kiln_tensor** outputs) {
  KILN_RETURN_IF_ERROR(bind_inputs(inputs));
  if (model_.profiling.load(std::memory_order_relaxed)) {
    KILN_RETURN_IF_ERROR(drain_all());
    for (size_t i = 0; i < model_.steps.size(); ++i) {
      const Step& step = model_.steps[i];
      const auto start = std::chrono::steady_clock::now();
      KILN_RETURN_IF_ERROR(run_step(step));
      KILN_RETURN_IF_ERROR(drain_all());  // the node's queued work is part of its time
      const auto elapsed = std::chrono::steady_clock::now() - start;
      model_.profile_nanoseconds[i].fetch_add(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()),
          std::memory_order_relaxed);
      model_.profile_count[i].fetch_add(1, std::memory_order_relaxed);
      for (ValueId id : step.release_after) release(id);
    }
  } else {
    for (const Step& step : model_.steps) {
      KILN_RETURN_IF_ERROR(run_step(step));
      for (ValueId id : step.release_after) release(id);
    }
  }
  KILN_RETURN_IF_ERROR(drain_all());  // the caller may read the outputs at once
  const Graph& g = model_.graph;
  std::vector<TensorPtr> results;
  for (ValueId id : g.outputs) {
    kiln_tensor* t = live_[id].get();
    if (t == nullptr) {
      return internal_error("graph output " + describe_value(g, id) + " was not computed");
    }
    if (model_.resident_storages.count(t->storage.get()) != 0) {
      // A weight or constant (or a view of one): the caller gets its own copy.
      KILN_ASSIGN_OR_RETURN(TensorPtr copy, tensor_copy_to_device(t, t->device()));
      results.push_back(std::move(copy));
    } else {
      results.emplace_back(tensor_retain(t));
    }
  }
  for (size_t i = 0; i < results.size(); ++i) outputs[i] = results[i].release();
  return Status::ok();
}

Status Execution::bind_inputs(const kiln_tensor* const* inputs) {
  const Graph& g = model_.graph;
  KILN_ASSIGN_OR_RETURN(bindings_, bind_input_symbols(g, inputs));
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const ValueId id = g.inputs[i];
    kiln_tensor* t = const_cast<kiln_tensor*>(inputs[i]);  // only read; a new reference is taken
    kiln_device* device = model_.values[id].device;
    const std::string what = "input " + std::to_string(i) + " '" + g.value(id).name + "'";
    if (g.value(id).type.buffer) {
      KILN_RETURN_IF_ERROR(check_buffer_input(t, device, what));
      live_[id].reset(tensor_retain(t));  // written in place: the caller sees the new contents
      continue;
    }
    if (t->device()->device != device->device) {
      auto copy = tensor_copy_to_device(t, device);
      if (!copy.is_ok()) return copy.status().with_context(what + ": copy to " + device->spec);
      live_[id] = std::move(copy).value();
    } else {
      // Kernels see contiguous tensors (plugin ABI 1.0).
      KILN_ASSIGN_OR_RETURN(live_[id], tensor_contiguous(t));
    }
  }
  for (const Weight& w : g.weights)
    live_[w.value].reset(tensor_retain(model_.resident[w.value].get()));
  return Status::ok();
}

Status Execution::run_step(const Step& step) {
  // Steps the executor runs itself read or copy operands through the host or the device's
  // synchronous copy path, so queued kernels must finish first; kernels and views need not.
  if (step.kind != StepKind::kKernel && step.kind != StepKind::kReshape &&
      step.kind != StepKind::kConstant && step.kind != StepKind::kTransfer &&
      step.kind != StepKind::kAllgather) {
    KILN_RETURN_IF_ERROR(drain_all());
  }
  switch (step.kind) {
    case StepKind::kConstant: {
      const ValueId out = step.node->outputs[0];
      live_[out].reset(tensor_retain(model_.resident[out].get()));
      return Status::ok();
    }
    case StepKind::kReshape:
      return run_reshape(step);
    case StepKind::kKernel:
      return run_kernel(step);
    case StepKind::kSubgraph:
      return run_subgraph(step);
    case StepKind::kPrint:
      return run_print(step);
    case StepKind::kBufferLoad:
      return run_buffer_load(step);
    case StepKind::kBufferStore:
      return run_buffer_store(step);
    case StepKind::kAllgather:
      return run_allgather(step);
    case StepKind::kTransfer: {
      const Node& node = *step.node;
      KILN_ASSIGN_OR_RETURN(const kiln_tensor* in,
                            operand(node.inputs[0], step.device, describe_node(node)));
      live_[node.outputs[0]].reset(tensor_retain(const_cast<kiln_tensor*>(in)));
      return Status::ok();
    }
  }
  return internal_error("unknown step kind");
}

StatusOr<const kiln_tensor*> Execution::operand(ValueId id, kiln_device* device,
                                                const std::string& what) {
  const kiln_tensor* t = live_[id].get();
  if (t == nullptr) {
    return internal_error(what + ": " + describe_value(model_.graph, id) + " is not available");
  }
  if (t->device()->device == device->device) return t;
  auto key = std::make_pair(id, static_cast<const Device*>(device->device));
  auto it = transfers_.find(key);
  if (it == transfers_.end()) {
    Status drained = drain(t->device()->device);  // the copy reads what queued kernels write
    if (!drained.is_ok()) return drained.with_context(what);
    auto copy = tensor_copy_to_device(t, device);
    if (!copy.is_ok()) {
      return copy.status().with_context(what + ": copy of " + describe_value(model_.graph, id) +
                                        " from " + t->device()->spec + " to " + device->spec);
    }
    it = transfers_.emplace(key, std::move(copy).value()).first;
  }
  return it->second.get();
}

Status Execution::run_reshape(const Step& step) {
  const Node& node = *step.node;
  const std::string what = describe_node(node);
  KILN_ASSIGN_OR_RETURN(const kiln_tensor* in, operand(node.inputs[0], step.device, what));
  const ValueId out = node.outputs[0];
  const TensorType& type = model_.graph.value(out).type;
  KILN_ASSIGN_OR_RETURN(auto shape, evaluate_shape(type, bindings_, what));
  if (!shape)
    return invalid_argument(what + ": the output shape " + type.to_string() +
                            " has an unbound symbol");
  KILN_ASSIGN_OR_RETURN(int64_t count, checked_element_count(static_cast<int32_t>(type.dtype),
                                                             shape->data(), shape->size()));
  if (count != in->num_elements || !in->is_contiguous()) {
    return internal_error(what + ": cannot view " + std::to_string(in->num_elements) +
                          " elements as " + std::to_string(count));
  }
  auto view = tensor_view(in, type.dtype, *shape, contiguous_strides(*shape), 0);
  if (!view.is_ok()) return view.status().with_context(what);
  live_[out] = std::move(view).value();
  return Status::ok();
}

Status Execution::run_kernel(const Step& step) {
  const Node& node = *step.node;
  const Graph& g = model_.graph;
  std::vector<const kiln_tensor*>& inputs = kernel_inputs_;
  inputs.clear();
  for (ValueId id : node.inputs) {
    const kiln_tensor* t = live_[id].get();
    if (t == nullptr || t->device()->device != step.device->device) {  // missing, or a copy
      KILN_ASSIGN_OR_RETURN(t, operand(id, step.device, describe_node(node)));
    }
    inputs.push_back(t);
  }
  std::vector<KernelOutput>& outputs = kernel_outputs_;
  outputs.clear();
  outputs.resize(node.outputs.size());
  bool all_allocated = true;  // no output has a data-dependent shape
  for (size_t k = 0; k < node.outputs.size(); ++k) {
    const TensorType& type = g.value(node.outputs[k]).type;
    outputs[k].type = &type;
    if (!static_shape(type, &output_shape_)) {
      KILN_ASSIGN_OR_RETURN(auto shape, evaluate_shape(type, bindings_, describe_output(node, k)));
      if (!shape) {  // data-dependent: the kernel sets it
        all_allocated = false;
        continue;
      }
      output_shape_ = std::move(*shape);
    }
    auto tensor = allocate(step.device, type.dtype, output_shape_);
    if (!tensor.is_ok()) {
      return tensor.status().with_context(describe_output(node, k) + " on " + step.device->spec);
    }
    outputs[k].tensor = std::move(tensor).value();
  }

  KILN_RETURN_IF_ERROR(call_kernel(node, step.kernel, step.device, inputs, outputs));
  if (all_allocated) {  // shapes known before the call bind no symbols and cannot have changed
    for (size_t k = 0; k < outputs.size(); ++k)
      live_[node.outputs[k]] = std::move(outputs[k].tensor);
    return Status::ok();
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    const std::string out_what = describe_output(node, k);
    if (!outputs[k].tensor) {
      return internal_error("kernel '" + step.kernel->name + "' for " + describe_node(node) +
                            " did not set the shape of its data-dependent output " +
                            std::to_string(k) + " (" + outputs[k].type->to_string() + ")");
    }
    KILN_RETURN_IF_ERROR(
        bind_output_symbols(*outputs[k].type, outputs[k].tensor->shape, &bindings_, out_what));
    live_[node.outputs[k]] = std::move(outputs[k].tensor);
  }
  return Status::ok();
}

Status Execution::call_kernel(const Node& node, const KernelEntry* kernel, kiln_device* device,
                              const std::vector<const kiln_tensor*>& inputs,
                              std::vector<KernelOutput>& outputs) {
  Status status;
  {
    kiln_kernel_context ctx;
    ctx.node = &node;
    ctx.kernel = kernel;
    ctx.device = device;
    ctx.num_threads = model_.session->num_threads();
    ctx.inputs = inputs.data();
    ctx.num_inputs = static_cast<int32_t>(inputs.size());
    ctx.outputs = outputs.data();
    ctx.num_outputs = static_cast<int32_t>(outputs.size());
    ctx.allocator = this;
    auto stream = stream_for(device);
    if (!stream.is_ok()) return stream.status().with_context(describe_node(node));
    ctx.stream = *stream;
    status = from_c_status(kernel->compute(&ctx, kernel->user_data));
    if (capture_ != nullptr) {  // the recorded work uses it at every replay
      capture_->scratch.insert(capture_->scratch.end(), ctx.scratch.begin(), ctx.scratch.end());
      ctx.scratch.clear();
    }
  }  // scratch memory is freed here
  if (!status.is_ok()) {
    return Status(status.code(), "kernel '" + kernel->name + "' for " + node.op + " '" + node.name +
                                     "' failed: " + status.message());
  }
  return Status::ok();
}

// allgather: for each output, every operand is brought to the output's device through the device
// copy path (`operand`, as an implicit transfer: once per execution, released with the operand)
// and that device's concat kernel joins them. The output shape comes from the operands' actual
// shapes, so symbols of data-dependent operands bind here as a kernel's outputs would.
Status Execution::run_allgather(const Step& step) {
  const Node& node = *step.node;
  const Graph& g = model_.graph;
  const std::string what = describe_node(node);
  KILN_ASSIGN_OR_RETURN(int64_t axis_attr, get_int_attr(node, "axis", 0));
  for (size_t k = 0; k < node.outputs.size(); ++k) {
    const ValueId out = node.outputs[k];
    kiln_device* device = model_.values[out].device;
    const std::string out_what = what + " output " + std::to_string(k);
    std::vector<const kiln_tensor*> parts;
    for (ValueId id : node.inputs) {
      KILN_ASSIGN_OR_RETURN(const kiln_tensor* t, operand(id, device, out_what));
      parts.push_back(t);
    }
    std::vector<int64_t> shape = parts[0]->shape;
    const auto rank = static_cast<int64_t>(shape.size());
    if (axis_attr < -rank || axis_attr >= rank) {
      return internal_error(what + ": attribute 'axis' " + std::to_string(axis_attr) +
                            " is outside rank " + std::to_string(rank));
    }
    const auto axis = static_cast<size_t>(axis_attr < 0 ? axis_attr + rank : axis_attr);
    for (size_t j = 1; j < parts.size(); ++j) {
      const std::vector<int64_t>& other = parts[j]->shape;
      bool fits = other.size() == shape.size();
      for (size_t d = 0; fits && d < shape.size(); ++d) fits = d == axis || other[d] == shape[d];
      if (!fits) {
        return invalid_argument(what + ": operand " + std::to_string(j) + " has shape " +
                                shape_string(other) + " but operand 0 has " +
                                shape_string(parts[0]->shape) + " off the gather axis " +
                                std::to_string(axis));
      }
      shape[axis] += other[axis];
    }
    const TensorType& type = g.value(out).type;
    KILN_RETURN_IF_ERROR(bind_output_symbols(type, shape, &bindings_, out_what));
    std::vector<KernelOutput> outputs(1);
    outputs[0].type = &type;
    auto tensor = allocate(device, type.dtype, shape);
    if (!tensor.is_ok()) return tensor.status().with_context(out_what + " on " + device->spec);
    outputs[0].tensor = std::move(tensor).value();
    Status status = call_kernel(*step.concat_node, step.concat_kernels[k], device, parts, outputs);
    if (!status.is_ok()) return status.with_context(out_what + " on " + device->spec);
    live_[out] = std::move(outputs[0].tensor);
  }
  return Status::ok();
}

// Executes a subgraph's model on `args`; its outputs come back as new references.
StatusOr<std::vector<TensorPtr>> run_model(const Model& sub, std::vector<const kiln_tensor*> args,
                                           const std::string& what) {
  std::vector<kiln_tensor*> outputs(sub.output_specs.size(), nullptr);
  Status status = execute_model(sub, args.data(), args.size(), outputs.data(), outputs.size());
  if (!status.is_ok()) return status.with_context(what + ": subgraph '" + sub.graph.name + "'");
  std::vector<TensorPtr> results;
  for (kiln_tensor* t : outputs) results.emplace_back(t);
  return results;
}

StatusOr<bool> read_predicate(const kiln_tensor* t, const std::string& what) {
  if (t->dtype != DType::kBool || !t->shape.empty()) {
    return invalid_argument(what + ": the predicate must be a bool scalar");
  }
  uint8_t value = 0;
  Status status = tensor_read(t, &value, sizeof value);
  if (!status.is_ok()) return status.with_context(what + ": reading the predicate");
  return value != 0;
}

Status Execution::run_subgraph(const Step& step) {
  const Node& node = *step.node;
  const std::string what = describe_node(node);
  // Operands are passed where they live; the subgraph copies what its inputs need elsewhere.
  std::vector<const kiln_tensor*> args;
  for (ValueId id : node.inputs) {
    if (!live_[id]) {
      return internal_error(what + ": " + describe_value(model_.graph, id) + " is not available");
    }
    args.push_back(live_[id].get());
  }
  auto slice = [&](size_t first, size_t count) {
    return std::vector<const kiln_tensor*>(args.begin() + static_cast<ptrdiff_t>(first),
                                           args.begin() + static_cast<ptrdiff_t>(first + count));
  };
  std::vector<TensorPtr> results;
  if (node.op == "call") {
    KILN_ASSIGN_OR_RETURN(results, run_model(*step.subgraphs[0], args, what));
  } else if (node.op == "cond") {
    KILN_ASSIGN_OR_RETURN(bool pred, read_predicate(args[0], what));
    const size_t then_inputs = step.subgraphs[0]->graph.inputs.size();
    const size_t else_inputs = step.subgraphs[1]->graph.inputs.size();
    KILN_ASSIGN_OR_RETURN(
        results, pred ? run_model(*step.subgraphs[0], slice(1, then_inputs), what)
                      : run_model(*step.subgraphs[1], slice(1 + then_inputs, else_inputs), what));
  } else {  // while_loop: the loop values, then the predicate's and the body's extra operands
    const Model& pred = *step.subgraphs[0];
    const Model& body = *step.subgraphs[1];
    const size_t n = node.outputs.size();
    const auto pred_extra = slice(n, pred.graph.inputs.size() - n);
    const auto body_extra = slice(pred.graph.inputs.size(), body.graph.inputs.size() - n);
    for (size_t k = 0; k < n; ++k)
      results.emplace_back(tensor_retain(const_cast<kiln_tensor*>(args[k])));
    for (int64_t iteration = 0;; ++iteration) {
      const std::string at = what + " iteration " + std::to_string(iteration);
      std::vector<const kiln_tensor*> loop_args;
      for (const TensorPtr& t : results) loop_args.push_back(t.get());
      std::vector<const kiln_tensor*> pred_args = loop_args;
      pred_args.insert(pred_args.end(), pred_extra.begin(), pred_extra.end());
      KILN_ASSIGN_OR_RETURN(std::vector<TensorPtr> go, run_model(pred, pred_args, at));
      KILN_ASSIGN_OR_RETURN(bool keep_going, read_predicate(go[0].get(), at));
      if (!keep_going) break;
      loop_args.insert(loop_args.end(), body_extra.begin(), body_extra.end());
      KILN_ASSIGN_OR_RETURN(std::vector<TensorPtr> next, run_model(body, loop_args, at));
      results = std::move(next);
    }
  }
  for (size_t k = 0; k < node.outputs.size(); ++k) {
    const ValueId out = node.outputs[k];
    KILN_RETURN_IF_ERROR(bind_output_symbols(model_.graph.value(out).type, results[k]->shape,
                                             &bindings_, what + " output " + std::to_string(k)));
    live_[out] = std::move(results[k]);
  }
  return Status::ok();
}

Status Execution::run_print(const Step& step) {
  const Node& node = *step.node;
  KILN_ASSIGN_OR_RETURN(std::string label,
                        get_string_attr(node, "label", std::string("debug_tensor")));
  std::string text = label;
  if (!node.inputs.empty()) {
    const kiln_tensor* t = live_[node.inputs[0]].get();
    if (t == nullptr) return internal_error(describe_node(node) + ": its operand is not available");
    auto formatted = format_tensor(t, label);
    if (!formatted.is_ok()) return formatted.status().with_context(describe_node(node));
    text = std::move(formatted).value();
  }
  text += "\n";
  // One write per line, so lines of executions on several threads do not interleave.
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return Status::ok();
}

Status Execution::run_buffer_load(const Step& step) {
  const Node& node = *step.node;
  const kiln_tensor* buffer = live_[node.inputs[0]].get();
  if (buffer == nullptr) return internal_error(describe_node(node) + ": the buffer is not bound");
  // A copy, so later stores do not change what was loaded.
  auto copy = allocate(step.device, buffer->dtype, buffer->shape);
  if (!copy.is_ok()) return copy.status().with_context(describe_node(node));
  Status status = tensor_copy_into(copy->get(), buffer);
  if (!status.is_ok()) return status.with_context(describe_node(node));
  live_[node.outputs[0]] = std::move(copy).value();
  return Status::ok();
}

Status Execution::run_buffer_store(const Step& step) {
  const Node& node = *step.node;
  const std::string what = describe_node(node);
  kiln_tensor* buffer = live_[node.inputs[0]].get();
  if (buffer == nullptr) return internal_error(what + ": the buffer is not bound");
  KILN_ASSIGN_OR_RETURN(const kiln_tensor* source, operand(node.inputs[1], step.device, what));
  TensorPtr target(tensor_retain(buffer));
  if (node.op == "buffer_store_slice") {
    KILN_ASSIGN_OR_RETURN(BufferSlice slice, buffer_slice(node, buffer->shape));
    auto view = tensor_view(buffer, buffer->dtype, slice.shape, slice.strides, slice.offset);
    if (!view.is_ok()) return view.status().with_context(what + ": the slice of the buffer");
    target = std::move(view).value();
  }
  if (source->shape != target->shape) {
    return invalid_argument(what + ": operand 1 (source) has shape " + shape_string(source->shape) +
                            " but the buffer region it is stored into has " +
                            shape_string(target->shape));
  }
  Status status = tensor_copy_into(target.get(), source);
  if (!status.is_ok()) return status.with_context(what);
  return Status::ok();
}

void Execution::recycle(TensorPtr tensor) {
  // Only a buffer nobody else can see may be reused: kiln-allocated, one view, one reference.
  // Inputs, weights and outputs always have another reference, so they never qualify.
  if (tensor->refs.load() == 1 && tensor->storage.use_count() == 1 && tensor->storage->owned) {
    const Storage& storage = *tensor->storage;
    free_[{storage.device->device, storage.bytes}].push_back(std::move(tensor));
  }
}

void Execution::release(ValueId id) {
  if (capture_ != nullptr) return;  // recorded work reads it at every replay: kept by the graph
  if (live_[id]) recycle(std::move(live_[id]));
  for (auto it = transfers_.lower_bound({id, nullptr});
       it != transfers_.end() && it->first.first == id;) {
    recycle(std::move(it->second));
    it = transfers_.erase(it);
  }
}

// ---- Graph replay ------------------------------------------------------------------------------

Status Execution::capture(ReplayGraph* graph, const kiln_tensor* const* inputs) {
  kiln_device* device = model_.replay_device;
  Device* d = device->device;
  KILN_ASSIGN_OR_RETURN(void* stream, stream_for(device));
  capture_ = graph;
  KILN_RETURN_IF_ERROR(d->begin_capture(stream));
  Status status = bind_inputs(inputs);
  for (size_t i = 0; status.is_ok() && i < model_.steps.size(); ++i) {
    status = run_step(model_.steps[i]);
  }
  auto recorded = d->end_capture(stream);  // always, so the stream leaves capture mode
  KILN_RETURN_IF_ERROR(status);
  if (!recorded.is_ok()) return recorded.status();
  graph->device = d;
  graph->graph = *recorded;
  for (ValueId id : model_.graph.outputs) {
    if (!live_[id]) return internal_error("graph output " + describe_value(model_.graph, id) +
                                          " was not computed");
    graph->outputs.emplace_back(tensor_retain(live_[id].get()));
  }
  for (TensorPtr& t : live_)
    if (t) graph->kept.push_back(std::move(t));
  for (auto& [key, t] : transfers_) graph->kept.push_back(std::move(t));
  for (auto& [key, list] : free_)
    for (TensorPtr& t : list) graph->kept.push_back(std::move(t));
  capture_ = nullptr;
  return Status::ok();
}

// The graph's key: each input's dtype and shape.
std::vector<std::vector<int64_t>> replay_key(const kiln_tensor* const* inputs, size_t count) {
  std::vector<std::vector<int64_t>> key(count);
  for (size_t i = 0; i < count; ++i) {
    key[i].push_back(static_cast<int64_t>(inputs[i]->dtype));
    key[i].insert(key[i].end(), inputs[i]->shape.begin(), inputs[i]->shape.end());
  }
  return key;
}

// Copies the inputs into the graph's, launches it and copies its outputs into new tensors, all
// queued on one stream of the device, then waits for that stream.
Status replay(const Model& model, ReplayGraph& graph, const kiln_tensor* const* inputs,
              kiln_tensor** outputs) {
  std::lock_guard<std::mutex> lock(graph.run_mu);
  kiln_device* device = model.replay_device;
  Device* d = graph.device;
  KILN_ASSIGN_OR_RETURN(void* stream, d->acquire_stream());
  struct Giveback {
    Device* d;
    void* s;
    ~Giveback() {
      (void)d->stream_synchronize(s);
      d->release_stream(s);
    }
  } giveback{d, stream};
  std::vector<TensorPtr> staged;  // inputs that had to be made contiguous or moved first
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    kiln_tensor* dst = graph.inputs[i].get();
    KILN_ASSIGN_OR_RETURN(TensorPtr src, tensor_contiguous(const_cast<kiln_tensor*>(inputs[i])));
    int32_t kind = KILN_COPY_DEVICE_TO_DEVICE;
    if (src->device()->device != d) {
      if (src->device()->device->is_host()) {
        kind = KILN_COPY_HOST_TO_DEVICE;
      } else {
        KILN_ASSIGN_OR_RETURN(src, tensor_copy_to_device(src.get(), device));
      }
    }
    KILN_RETURN_IF_ERROR(d->copy_on(stream, kind, dst->data(), src->data(), dst->byte_size()));
    staged.push_back(std::move(src));
  }
  KILN_RETURN_IF_ERROR(d->launch_graph(graph.graph, stream));
  std::vector<TensorPtr> results;
  for (const TensorPtr& out : graph.outputs) {
    KILN_ASSIGN_OR_RETURN(TensorPtr copy, tensor_allocate(device, out->dtype, out->shape));
    KILN_RETURN_IF_ERROR(d->copy_on(stream, KILN_COPY_DEVICE_TO_DEVICE, copy->data(), out->data(),
                                    out->byte_size()));
    results.push_back(std::move(copy));
  }
  KILN_RETURN_IF_ERROR(d->stream_synchronize(stream));
  for (size_t i = 0; i < results.size(); ++i) outputs[i] = results[i].release();
  return Status::ok();
}

// Executes by graph replay when the model qualifies: replays the graph of these input shapes,
// or records it first. Sets *done = false when the model must run step by step instead (it does
// not qualify, or a capture failed: logged once, and the model never tries again).
Status execute_by_replay(const Model& model, const kiln_tensor* const* inputs, kiln_tensor** outputs,
                         bool* done) {
  *done = false;
  const Graph& g = model.graph;
  // Bad inputs get the usual errors, and are never recorded.
  KILN_RETURN_IF_ERROR(bind_input_symbols(g, inputs).status());
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    if (g.value(g.inputs[i]).type.dtype != inputs[i]->dtype) return Status::ok();  // step by step
  }
  const auto key = replay_key(inputs, g.inputs.size());
  std::shared_ptr<ReplayGraph> graph;
  {
    std::lock_guard<std::mutex> lock(model.replay_mu);
    if (!model.replay_off.empty()) return Status::ok();
    auto it = model.replays.find(key);
    if (it != model.replays.end()) graph = it->second;
  }
  if (graph == nullptr) {
    auto fresh = std::make_shared<ReplayGraph>();
    Status status;
    for (size_t i = 0; status.is_ok() && i < g.inputs.size(); ++i) {
      auto staged = tensor_copy_to_device(inputs[i], model.replay_device);
      if (staged.is_ok()) {
        fresh->inputs.push_back(std::move(staged).value());
      } else {
        status = staged.status();
      }
    }
    if (status.is_ok()) {
      std::vector<const kiln_tensor*> staged;
      for (const TensorPtr& t : fresh->inputs) staged.push_back(t.get());
      Execution recording(model);
      status = recording.capture(fresh.get(), staged.data());
    }
    std::lock_guard<std::mutex> lock(model.replay_mu);
    if (!status.is_ok()) {
      model.replay_off = status.message();
      log_message(KILN_LOG_INFO, "model '" + g.name + "': graph replay is off, its executions " +
                                     "run node by node: the capture failed: " + status.message());
      return Status::ok();
    }
    graph = model.replays.emplace(key, std::move(fresh)).first->second;  // a racing capture wins
  }
  KILN_RETURN_IF_ERROR(replay(model, *graph, inputs, outputs));
  *done = true;
  return Status::ok();
}

}  // namespace

Status execute_model(const Model& model, const kiln_tensor* const* inputs, size_t num_inputs,
                     kiln_tensor** outputs, size_t outputs_capacity) {
  const Graph& g = model.graph;
  if (num_inputs != g.inputs.size()) {
    return invalid_argument("the model takes " + std::to_string(g.inputs.size()) + " inputs, got " +
                            std::to_string(num_inputs));
  }
  if (outputs_capacity < g.outputs.size()) {
    return invalid_argument("outputs_capacity is " + std::to_string(outputs_capacity) +
                            " but the model has " + std::to_string(g.outputs.size()) + " outputs");
  }
  for (size_t i = 0; i < num_inputs; ++i) {
    if (inputs[i] == nullptr) {
      return invalid_argument("input " + std::to_string(i) + " '" + g.value(g.inputs[i]).name +
                              "' is NULL");
    }
  }
  if (model.replay_device != nullptr && !model.profiling.load(std::memory_order_relaxed)) {
    bool done = false;
    KILN_RETURN_IF_ERROR(execute_by_replay(model, inputs, outputs, &done));
    if (done) return Status::ok();
  }
  Execution execution(model);
  return execution.run(inputs, outputs);
}

}  // namespace kiln
