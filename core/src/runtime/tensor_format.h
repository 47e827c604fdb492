// Text of a tensor for the `print` op: "<label>: <dtype>[dims] <values>", values nested by
// dimension like NumPy's repr.
#pragma once

#include <string>

#include "base/status.h"
#include "runtime/tensor.h"

namespace kiln {

// Reads the tensor (from any device) and formats it; more than `max_elements` values are
// shown flat, the first max_elements followed by "...".
StatusOr<std::string> format_tensor(const kiln_tensor* tensor, const std::string& label,
                                    int64_t max_elements = 1000);

}  // namespace kiln
