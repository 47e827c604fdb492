// Type checking of the buffer ops (buffer_load, buffer_store, buffer_store_slice) and the slice
// geometry of buffer_store_slice. Ordering: these nodes read and write a graph input in place, so
// the executor runs them in node order, and passes never drop or move a store (is_effect_op).
#include "ops/buffer_ops.h"

#include <algorithm>

#include "ops/control_flow.h"
#include "ops/op_schema.h"

namespace kiln {
namespace {

Status node_error(const Node& node, const std::string& message) {
  return invalid_argument(describe_node(node) + ": " + message);
}

Status check_operands(const Node& node, const std::vector<TensorType>& inputs, size_t count,
                      const char* roles) {
  if (inputs.size() != count) {
    return node_error(node, "takes " + std::to_string(count) + " operand" +
                                (count == 1 ? "" : "s") + " (" + roles + "), got " +
                                std::to_string(inputs.size()));
  }
  if (!inputs[0].buffer) {
    return node_error(node, "operand 0 (buffer) is the tensor " + inputs[0].to_string() +
                                ", not a mutable buffer (a graph input of buffer type)");
  }
  if (count == 2 && inputs[1].buffer) {
    return node_error(node, "operand 1 (source) is a mutable buffer (" + inputs[1].to_string() +
                                "); load it with buffer_load first");
  }
  return Status::ok();
}

Status check_no_attrs(const Node& node, const std::vector<std::string>& accepted) {
  for (const auto& [name, attr] : node.attrs) {
    if (std::find(accepted.begin(), accepted.end(), name) != accepted.end()) continue;
    std::string list;
    for (const std::string& a : accepted) list += (list.empty() ? "" : ", ") + a;
    return node_error(node, "unknown attribute '" + name + "' (" + node.op + " accepts " +
                                (list.empty() ? std::string("no attributes") : list) + ")");
  }
  return Status::ok();
}

Status source_mismatch(const Node& node, const TensorType& source, const TensorType& target,
                       const std::string& what) {
  return node_error(node, "operand 1 (source) is " + source.to_string() + " but " + what + " is " +
                              target.to_string());
}

// The type of the slice a buffer_store_slice node writes: slice_tensor's inference over the
// buffer's type, with its errors reported as this node's.
StatusOr<TensorType> slice_type(const Node& node, const TensorType& buffer) {
  Node slice;
  slice.op = "slice_tensor";
  slice.name = node.name;
  slice.attrs = node.attrs;
  TensorType tensor = buffer;
  tensor.buffer = false;
  auto types = infer_output_types(slice, {tensor});
  if (!types.is_ok()) {
    std::string message = types.status().message();
    const std::string prefix = describe_node(slice) + ": ";
    if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
    return Status(types.status().code(), describe_node(node) + ": indices: " + message);
  }
  return types->at(0);
}

}  // namespace

StatusOr<std::vector<TensorType>> infer_buffer_op_types(const Node& node,
                                                        const std::vector<TensorType>& inputs) {
  if (node.op == "buffer_load") {
    KILN_RETURN_IF_ERROR(check_no_attrs(node, {}));
    KILN_RETURN_IF_ERROR(check_operands(node, inputs, 1, "buffer"));
    TensorType out = inputs[0];
    out.buffer = false;
    if (!node.device.empty()) out.device = node.device;
    return std::vector<TensorType>{out};
  }
  if (node.op == "buffer_store") {
    KILN_RETURN_IF_ERROR(check_no_attrs(node, {}));
    KILN_RETURN_IF_ERROR(check_operands(node, inputs, 2, "buffer, source"));
    TensorType target = inputs[0];
    target.buffer = false;
    if (!(inputs[1] == target)) return source_mismatch(node, inputs[1], target, "the buffer");
    return std::vector<TensorType>{};
  }
  if (node.op == "buffer_store_slice") {
    KILN_RETURN_IF_ERROR(check_no_attrs(node, {"starts", "stops", "steps", "squeeze"}));
    KILN_RETURN_IF_ERROR(check_operands(node, inputs, 2, "buffer, source"));
    KILN_ASSIGN_OR_RETURN(TensorType target, slice_type(node, inputs[0]));
    if (!(inputs[1] == target)) {
      return source_mismatch(node, inputs[1], target,
                             "the slice of buffer " + inputs[0].to_string());
    }
    return std::vector<TensorType>{};
  }
  return internal_error(describe_node(node) + " is not a buffer op");
}

StatusOr<BufferSlice> buffer_slice(const Node& node, const std::vector<int64_t>& shape) {
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> starts, get_ints_attr(node, "starts"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> stops, get_ints_attr(node, "stops"));
  KILN_ASSIGN_OR_RETURN(std::vector<int64_t> steps, get_ints_attr(node, "steps"));
  std::vector<bool> squeezed(shape.size(), false);
  if (find_attr(node, "squeeze") != nullptr) {
    KILN_ASSIGN_OR_RETURN(std::vector<int64_t> squeeze, get_ints_attr(node, "squeeze"));
    for (int64_t axis : squeeze) {
      const int64_t rank = static_cast<int64_t>(shape.size());
      if (axis < -rank || axis >= rank) return node_error(node, "squeeze axis out of range");
      squeezed[static_cast<size_t>(axis < 0 ? axis + rank : axis)] = true;
    }
  }
  if (starts.size() != shape.size() || stops.size() != shape.size() ||
      steps.size() != shape.size()) {
    return node_error(node, "the slice attributes need one entry per buffer dim (" +
                                std::to_string(shape.size()) + ")");
  }
  BufferSlice out;
  int64_t stride = 1;  // of dim d in the contiguous buffer
  std::vector<int64_t> strides(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    stride *= shape[d];
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    const int64_t n = shape[d], step = steps[d];
    if (step == 0) return node_error(node, "dim " + std::to_string(d) + ": step must not be 0");
    // Python's slice.indices(n), in 128 bits so no int64 bound overflows.
    const __int128 lower = step < 0 ? -1 : 0;
    const __int128 upper = step < 0 ? __int128(n) - 1 : __int128(n);
    auto clamp = [&](int64_t index) {
      __int128 i = index;
      if (i < 0) i += n;
      return std::clamp(i, lower, upper);
    };
    const __int128 first = clamp(starts[d]), end = clamp(stops[d]);
    int64_t length = 0;
    if (step > 0 && end > first) length = static_cast<int64_t>((end - first - 1) / step + 1);
    if (step < 0 && first > end) length = static_cast<int64_t>((first - end - 1) / -step + 1);
    if (squeezed[d] && length != 1) {
      return node_error(node, "dim " + std::to_string(d) + " is squeezed but its slice has " +
                                  std::to_string(length) + " elements");
    }
    if (length > 0) out.offset += static_cast<int64_t>(first) * strides[d];
    if (squeezed[d]) continue;
    out.shape.push_back(length);
    out.strides.push_back(strides[d] * step);
  }
  return out;
}

}  // namespace kiln
