// The placement report of a loaded model: for each node, the kernel that runs it and why every
// other candidate kernel for its op was passed over (device API, dtype, priority). Computed once
// at load; `kiln inspect --placement` and kiln_model_get_node_info read it.
#pragma once

#include <string>
#include <vector>

#include "runtime/plugin_record.h"

namespace kiln {

class Model;

struct NodeReport {
  std::string kernel;                     // "" when the executor handles the node itself
  std::string plugin;                     // the kernel's plugin, or ""
  std::string rejected;                   // one line per other candidate; "" when there was none
  std::vector<const char*> input_names;   // into Model::graph
  std::vector<const char*> output_names;  // into Model::graph
};

// One report per step of `model` (its steps are bound to kernels already).
std::vector<NodeReport> describe_placement(const std::vector<LoadedPlugin*>& plugins,
                                           const Model& model);

}  // namespace kiln
