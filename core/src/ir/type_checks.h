// Checks of types, tensor data and weight paths that every producer of a Graph runs (the C ABI
// builder and the .kiln loader), so a graph is held to one standard however it was made.
#pragma once

#include <string>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln {

// Valid dtype code, rank <= kMaxRank, static dims >= 0, and a static byte size that fits in
// int64. `what` names the type in errors ("input 'x'", "node 'n3' output 0").
Status check_tensor_type(const TensorType& type, const std::string& what);
// Static byte size of a type whose dims are all static; an error names `what` otherwise.
StatusOr<uint64_t> static_byte_size(const TensorType& type, const std::string& what);
// Valid dtype, dims >= 0, and exactly product(shape) * dtype size bytes (overflow-checked).
Status check_host_tensor(const HostTensor& tensor, const std::string& what);
// The same for data not yet copied: `byte_count` is what is available.
Status check_tensor_data(DType dtype, const std::vector<int64_t>& shape, uint64_t byte_count,
                         const std::string& what);
// The syntactic rules of an external weight path: not empty, not absolute, no ".." component,
// no NUL byte. Where it resolves is checked when it is read (serialize/external_weight.cpp).
Status check_external_path(const std::string& path, const std::string& what);

}  // namespace kiln
