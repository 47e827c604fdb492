// The slice of a buffer that buffer_store_slice writes, computed from the node's slice_tensor
// attributes and the buffer's shape when the graph runs (the executor makes a strided view of it).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln {

struct BufferSlice {
  int64_t offset = 0;            // elements from the buffer's element 0 to the slice's
  std::vector<int64_t> shape;    // squeezed dims dropped
  std::vector<int64_t> strides;  // elements, relative to the contiguous buffer (may be < 0)
};

// Python slice semantics per dim (negative bounds count from the end, out-of-range bounds clamp),
// as slice_tensor. `shape` is the buffer's, which is contiguous.
StatusOr<BufferSlice> buffer_slice(const Node& node, const std::vector<int64_t>& shape);

}  // namespace kiln
