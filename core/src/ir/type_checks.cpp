// Type, tensor-data and weight-path checks shared by the graph builder and the loader.
#include "ir/type_checks.h"

#include "ir/checked_math.h"
#include "ir/limits.h"

namespace kiln {
namespace {

// Element count of the static dims only, times the dtype size; nullopt on overflow.
std::optional<int64_t> static_part_bytes(const TensorType& type) {
  int64_t total = static_cast<int64_t>(dtype_size(type.dtype));
  for (const Dim& d : type.shape) {
    if (!d.is_static()) continue;
    auto next = checked_mul(total, d.value());
    if (!next) return std::nullopt;
    total = *next;
  }
  return total;
}

}  // namespace

Status check_tensor_type(const TensorType& type, const std::string& what) {
  const int32_t code = static_cast<int32_t>(type.dtype);
  if (!dtype_is_valid(code)) {
    return invalid_argument(what + " has an unknown dtype code " + std::to_string(code));
  }
  if (type.shape.size() > kMaxRank) {
    return invalid_argument(what + " has rank " + std::to_string(type.shape.size()) +
                            ", over the limit of " + std::to_string(kMaxRank));
  }
  for (size_t i = 0; i < type.shape.size(); ++i) {
    const Dim& d = type.shape[i];
    if (d.is_static() && d.value() < 0) {
      return invalid_argument(what + " has a negative dim " + std::to_string(i) + " (" +
                              d.to_string() + ")");
    }
  }
  if (!static_part_bytes(type)) {
    return resource_exhausted(what + " has type " + type.to_string() +
                              ", whose byte size overflows int64");
  }
  return Status::ok();
}

StatusOr<uint64_t> static_byte_size(const TensorType& type, const std::string& what) {
  KILN_RETURN_IF_ERROR(check_tensor_type(type, what));
  for (const Dim& d : type.shape) {
    if (!d.is_static()) {
      return invalid_argument(what + " has type " + type.to_string() +
                              "; it must have static dims only");
    }
  }
  return static_cast<uint64_t>(*static_part_bytes(type));
}

Status check_host_tensor(const HostTensor& tensor, const std::string& what) {
  return check_tensor_data(tensor.dtype, tensor.shape, tensor.byte_size(), what);
}

Status check_tensor_data(DType dtype, const std::vector<int64_t>& dims, uint64_t byte_count,
                         const std::string& what) {
  const int32_t code = static_cast<int32_t>(dtype);
  if (!dtype_is_valid(code)) {
    return invalid_argument(what + " has an unknown dtype code " + std::to_string(code));
  }
  if (dims.size() > kMaxRank) {
    return invalid_argument(what + " has rank " + std::to_string(dims.size()) +
                            ", over the limit of " + std::to_string(kMaxRank));
  }
  Shape shape(dims.begin(), dims.end());
  for (int64_t d : dims) {
    if (d < 0) return invalid_argument(what + " has a negative dim in " + shape_to_string(shape));
  }
  const auto count = static_num_elements(dims);
  const auto bytes =
      count ? checked_mul(*count, static_cast<int64_t>(dtype_size(dtype))) : std::nullopt;
  if (!bytes) {
    return resource_exhausted(what + " has shape " + shape_to_string(shape) +
                              ", whose byte size overflows int64");
  }
  if (static_cast<uint64_t>(*bytes) != byte_count) {
    return invalid_argument(what + " holds " + std::to_string(byte_count) + " bytes but its type " +
                            dtype_name(dtype) + shape_to_string(shape) + " needs " +
                            std::to_string(*bytes));
  }
  return Status::ok();
}

Status check_external_path(const std::string& path, const std::string& what) {
  if (path.empty()) return invalid_argument(what + " has an empty external path");
  if (path.find('\0') != std::string::npos) {
    return invalid_argument(what + " has an external path containing a NUL byte");
  }
  if (path.front() == '/' || path.front() == '\\') {
    return permission_denied(what + " has the absolute external path '" + path +
                             "'; paths must be relative to the graph file's folder");
  }
  // Split on both separators so "a\..\b" written on another system is caught too.
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find_first_of("/\\", start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0) {
      return permission_denied(what + " has the external path '" + path +
                               "', which contains '..'; it may not leave the graph's folder");
    }
    start = end + 1;
  }
  return Status::ok();
}

}  // namespace kiln
