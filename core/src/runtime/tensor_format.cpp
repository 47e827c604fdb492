// Formatting tensors for `print`. Float16 and bfloat16 are widened here (no library in core
// converts them); float8 values are shown as their raw bytes.
#include "runtime/tensor_format.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "ir/graph.h"

namespace kiln {
namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float value = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -value : value;
  }
  uint32_t bits = sign | (exponent == 0x1F ? 0x7F800000u | (mantissa << 13)
                                           : ((exponent + 112) << 23) | (mantissa << 13));
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

float bfloat16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

std::string format_element(const uint8_t* p, DType dtype) {
  char buf[64];
  auto load = [p](auto value) {
    std::memcpy(&value, p, sizeof value);
    return value;
  };
  switch (dtype) {
    case DType::kBool:
      return p[0] ? "True" : "False";
    case DType::kInt8:
      return std::to_string(load(int8_t{}));
    case DType::kInt16:
      return std::to_string(load(int16_t{}));
    case DType::kInt32:
      return std::to_string(load(int32_t{}));
    case DType::kInt64:
      return std::to_string(load(int64_t{}));
    case DType::kUInt8:
      return std::to_string(load(uint8_t{}));
    case DType::kUInt16:
      return std::to_string(load(uint16_t{}));
    case DType::kUInt32:
      return std::to_string(load(uint32_t{}));
    case DType::kUInt64:
      return std::to_string(load(uint64_t{}));
    case DType::kFloat16:
      std::snprintf(buf, sizeof buf, "%g", static_cast<double>(half_to_float(load(uint16_t{}))));
      return buf;
    case DType::kBFloat16:
      std::snprintf(buf, sizeof buf, "%g",
                    static_cast<double>(bfloat16_to_float(load(uint16_t{}))));
      return buf;
    case DType::kFloat32:
      std::snprintf(buf, sizeof buf, "%g", static_cast<double>(load(float{})));
      return buf;
    case DType::kFloat64:
      std::snprintf(buf, sizeof buf, "%.15g", load(double{}));
      return buf;
    default:
      std::snprintf(buf, sizeof buf, "0x%02x", p[0]);
      return buf;
  }
}

// Values of dims [dim, rank) starting at element `first`, nested in brackets.
void format_nested(const std::vector<uint8_t>& data, const std::vector<int64_t>& shape, size_t dim,
                   int64_t first, DType dtype, std::string* out) {
  const size_t size = dtype_size(dtype);
  if (dim == shape.size()) {
    *out += format_element(data.data() + static_cast<size_t>(first) * size, dtype);
    return;
  }
  int64_t stride = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) stride *= shape[d];
  *out += "[";
  for (int64_t i = 0; i < shape[dim]; ++i) {
    if (i > 0) *out += ", ";
    format_nested(data, shape, dim + 1, first + i * stride, dtype, out);
  }
  *out += "]";
}

}  // namespace

StatusOr<std::string> format_tensor(const kiln_tensor* tensor, const std::string& label,
                                    int64_t max_elements) {
  TensorType type;
  type.dtype = tensor->dtype;
  for (int64_t d : tensor->shape) type.shape.push_back(d);
  std::vector<uint8_t> data(static_cast<size_t>(tensor->num_elements) * dtype_size(tensor->dtype));
  KILN_RETURN_IF_ERROR(tensor_read(tensor, data.data(), data.size()));
  std::string out = label + ": " + type.to_string() + " ";
  if (tensor->num_elements <= max_elements) {
    format_nested(data, tensor->shape, 0, 0, tensor->dtype, &out);
  } else {
    out += "[";
    for (int64_t i = 0; i < max_elements; ++i) {
      out += format_element(data.data() + static_cast<size_t>(i) * dtype_size(tensor->dtype),
                            tensor->dtype) +
             ", ";
    }
    out += "...]";
  }
  return out;
}

}  // namespace kiln
