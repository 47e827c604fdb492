// Executing a Model: input checks, symbol binding, buffer allocation with reuse after each
// value's last use, implicit copies between devices, kernel calls. All state of one execution is
// local to it, so any number of threads may execute one model at once.
#pragma once

#include <cstddef>

#include "base/status.h"
#include "runtime/model.h"

namespace kiln {

// Writes model.output_specs.size() new references to `outputs` on success; on failure nothing.
Status execute_model(const Model& model, const kiln_tensor* const* inputs, size_t num_inputs,
                     kiln_tensor** outputs, size_t outputs_capacity);

}  // namespace kiln
