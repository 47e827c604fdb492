// DType names and properties.
#include "base/dtype.h"

#include <array>
#include <utility>

namespace kiln {
namespace {

constexpr std::array<std::pair<DType, const char*>, 17> kNames = {{
    {DType::kBool, "bool"},
    {DType::kFloat8E4M3FN, "float8_e4m3fn"},
    {DType::kFloat8E4M3FNUZ, "float8_e4m3fnuz"},
    {DType::kFloat8E5M2, "float8_e5m2"},
    {DType::kFloat8E5M2FNUZ, "float8_e5m2fnuz"},
    {DType::kFloat16, "float16"},
    {DType::kBFloat16, "bfloat16"},
    {DType::kFloat32, "float32"},
    {DType::kFloat64, "float64"},
    {DType::kUInt8, "uint8"},
    {DType::kInt8, "int8"},
    {DType::kUInt16, "uint16"},
    {DType::kInt16, "int16"},
    {DType::kUInt32, "uint32"},
    {DType::kInt32, "int32"},
    {DType::kUInt64, "uint64"},
    {DType::kInt64, "int64"},
}};

}  // namespace

const char* dtype_c_name(int32_t code) {
  for (const auto& [t, name] : kNames)
    if (static_cast<int32_t>(t) == code) return name;
  return nullptr;
}

std::string dtype_name(DType t) {
  const char* name = dtype_c_name(static_cast<int32_t>(t));
  return name ? name : "invalid(" + std::to_string(static_cast<int32_t>(t)) + ")";
}

DType dtype_from_name(std::string_view name) {
  for (const auto& [t, n] : kNames)
    if (name == n) return t;
  return DType::kInvalid;
}

bool dtype_is_float(DType t) {
  int32_t c = static_cast<int32_t>(t);
  return c >= KILN_DTYPE_FLOAT8_E4M3FN && c <= KILN_DTYPE_FLOAT64;
}

bool dtype_is_signed_integral(DType t) {
  return t == DType::kInt8 || t == DType::kInt16 || t == DType::kInt32 || t == DType::kInt64;
}

bool dtype_is_unsigned_integral(DType t) {
  return t == DType::kUInt8 || t == DType::kUInt16 || t == DType::kUInt32 || t == DType::kUInt64;
}

bool dtype_is_integral(DType t) { return dtype_is_signed_integral(t) || dtype_is_unsigned_integral(t); }

}  // namespace kiln
