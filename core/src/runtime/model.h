// Model: a graph loaded into a session — verified, placed on devices, kernels bound, weights and
// constants resident on their devices, last uses computed. Immutable after loading, so any number
// of threads may execute it at once (executor.h).
#pragma once

#include <atomic>
#include <mutex>
#include <map>
#include <memory>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kiln/kiln.h"
#include "passes/placement_report.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

namespace kiln {

struct KernelEntry;
class Model;

enum class StepKind {
  kKernel,       // a plugin kernel
  kConstant,     // the resident constant tensor
  kReshape,      // a zero-copy view of the (contiguous) input
  kSubgraph,     // call, cond, while_loop: executes the subgraphs' models
  kTransfer,     // transfer_to: a copy onto the step's device (none when already there)
  kPrint,        // print: writes the label and the tensor to stdout
  kBufferLoad,   // buffer_load: a copy of the buffer input's current contents
  kBufferStore,  // buffer_store, buffer_store_slice: a copy into (a slice of) the buffer
  kAllgather,    // allgather: every operand copied to each output's device, joined there by concat
};

struct Step {
  const Node* node = nullptr;  // in Model::graph
  StepKind kind = StepKind::kKernel;
  const KernelEntry* kernel = nullptr;
  kiln_device* device = nullptr;
  std::vector<ValueId> release_after;  // values whose last use is this step
  // kSubgraph: call: {callee}; cond: {then, else}; while_loop: {predicate, body}.
  std::vector<const Model*> subgraphs;
  // kAllgather: `concat` over the node's operands (with its axis), and per output the kernel
  // for it on that output's device.
  std::shared_ptr<const Node> concat_node;
  std::vector<const KernelEntry*> concat_kernels;
  // Set when the node was placed on an accelerator with no kernel for it and runs on the host
  // instead: why the accelerator was passed over (the kernel selection's message).
  std::string fallback_reason;
};

struct ValuePlacement {
  kiln_device* device = nullptr;
  bool is_output = false;
};

// A kiln_tensor_spec's strings and arrays, owned by the model.
struct SpecStorage {
  ValueId value = -1;
  std::string name;
  int32_t dtype = 0;
  std::vector<int64_t> shape;  // -1 where symbolic
  std::vector<std::string> exprs;
  std::vector<const char*> expr_ptrs;  // NULL where static
  std::string device;
  bool is_buffer = false;  // written to the spec by the API when its struct_size covers it

  void fill(kiln_tensor_spec* out) const;
};

// One captured execution of a model (graph replay): the device graph and every buffer it reads
// or writes, at fixed addresses. Defined with the executor.
struct ReplayGraph;

class Model {
 public:
  std::shared_ptr<Session> session;  // keeps the runtime, its plugins and devices alive
  Graph graph;                       // the loaded copy (weight and constant bytes dropped)
  std::vector<ValuePlacement> values;
  std::vector<Step> steps;
  std::vector<TensorPtr> resident;  // by value: weights and constants on their device
  // Their storages: an output sharing one is copied, so no caller can write into the model.
  std::set<const Storage*> resident_storages;
  std::vector<SpecStorage> input_specs;
  std::vector<SpecStorage> output_specs;
  // The main model's: one per entry of the graph's subgraphs, in order (steps point into them).
  std::vector<std::shared_ptr<const Model>> subgraph_models;
  std::vector<NodeReport> node_reports;  // by step: kernel choice and rejected candidates

  // Per-step timing (kiln_model_set_profiling): while `profiling` is set, executions time each
  // step and add to these (one slot per step, allocated at load).
  mutable std::atomic<bool> profiling{false};
  std::unique_ptr<std::atomic<uint64_t>[]> profile_count;
  std::unique_ptr<std::atomic<uint64_t>[]> profile_nanoseconds;

  // Graph replay (session option graph_replay): the accelerator every step runs on when the model
  // qualifies (set at load), else null; the captured graphs by input shapes; and, once a capture
  // failed, why (the model then runs as usual).
  kiln_device* replay_device = nullptr;
  mutable std::mutex replay_mu;
  mutable std::map<std::vector<std::vector<int64_t>>, std::shared_ptr<ReplayGraph>> replays;
  mutable std::string replay_off;
};

// Loads `graph` into `session` (see Session::load).
StatusOr<std::shared_ptr<Model>> load_model(std::shared_ptr<Session> session, const Graph& graph,
                                            const LoadOptions& options);

}  // namespace kiln
