// Checking a model's inputs at execute: count, dtype, rank, static dims, and symbolic dims bound
// from the inputs and consistent across them. Errors name the input index and name, the dim,
// what was expected and what was given.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"
#include "runtime/tensor.h"

namespace kiln {

using SymbolBindings = std::map<std::string, int64_t>;

// Binds the symbols of the input types from `inputs` (which must have the types' count).
StatusOr<SymbolBindings> bind_input_symbols(const Graph& graph, const kiln_tensor* const* inputs);

// The concrete shape of `type` under `bindings`; nullopt when a symbol is unbound (a
// data-dependent dim). Errors when a dim overflows or is negative.
StatusOr<std::optional<std::vector<int64_t>>> evaluate_shape(const TensorType& type,
                                                             const SymbolBindings& bindings,
                                                             const std::string& what);

// Binds the symbols of a data-dependent type from a shape a kernel set, and checks the dims it
// can evaluate.
Status bind_output_symbols(const TensorType& type, const std::vector<int64_t>& shape,
                           SymbolBindings* bindings, const std::string& what);

}  // namespace kiln
