// Session: a runtime, the devices graphs are placed on, and the thread count kernels get. Loading
// a graph into a session gives an immutable Model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"
#include "runtime/runtime.h"
#include "runtime/tensor.h"

namespace kiln {

class Model;

struct SessionOptions {
  std::vector<std::string> devices;  // specs; empty: kiln.yaml's `devices:`, else "cpu"
  int32_t num_threads = 0;           // 0: kiln.yaml's `threads:`, else one per core
  std::vector<std::string> custom_extensions;
  bool graph_passes = true;  // run the optimization passes at load (core/src/passes)
  bool cpu_fallback = true;  // run nodes an accelerator has no kernel for on the host
  bool graph_replay = false;  // capture executions on an accelerator as graphs and replay them
};

struct LoadOptions {
  // Weights by name (MAX's weights_registry); they override the graph's own sources. Borrowed.
  std::vector<std::pair<std::string, kiln_tensor*>> weights;
  bool skip_passes = false;  // internal: constant folding loads one-node graphs as written
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // Fails when a device spec names no device or a custom extension does not load.
  static StatusOr<std::shared_ptr<Session>> create(std::shared_ptr<Runtime> runtime,
                                                   const SessionOptions& options);

  Runtime& runtime() const { return *runtime_; }
  const std::vector<kiln_device*>& devices() const { return devices_; }
  int32_t num_threads() const { return num_threads_; }
  bool graph_passes() const { return graph_passes_; }
  bool cpu_fallback() const { return cpu_fallback_; }
  bool graph_replay() const { return graph_replay_; }

  // Maps a graph device ref onto a device: "" to the session's first device, "cpu"/"cpu:N" to
  // its Nth host device (else the runtime's host), "gpu"/"gpu:N" to its Nth accelerator,
  // "<api>:N" to that device if the session has it.
  StatusOr<kiln_device*> resolve_device_ref(const std::string& ref) const;

  // Verifies, places, binds kernels and uploads weights (model_loader.cpp).
  StatusOr<std::shared_ptr<Model>> load(const Graph& graph, const LoadOptions& options);

 private:
  Session() = default;
  std::string describe() const;  // "cpu:0, gpu:0"

  std::shared_ptr<Runtime> runtime_;
  std::vector<kiln_device*> devices_;
  int32_t num_threads_ = 1;
  bool graph_passes_ = true;
  bool cpu_fallback_ = true;
  bool graph_replay_ = false;
};

}  // namespace kiln
