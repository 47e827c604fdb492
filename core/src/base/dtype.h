// DType: MAX's dtype codes with names and properties. Sizes come from kiln_dtype_size().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/kiln_types.h"

namespace kiln {

enum class DType : int32_t {
  kInvalid = KILN_DTYPE_INVALID,
  kBool = KILN_DTYPE_BOOL,
  kFloat8E4M3FN = KILN_DTYPE_FLOAT8_E4M3FN,
  kFloat8E4M3FNUZ = KILN_DTYPE_FLOAT8_E4M3FNUZ,
  kFloat8E5M2 = KILN_DTYPE_FLOAT8_E5M2,
  kFloat8E5M2FNUZ = KILN_DTYPE_FLOAT8_E5M2FNUZ,
  kFloat16 = KILN_DTYPE_FLOAT16,
  kBFloat16 = KILN_DTYPE_BFLOAT16,
  kFloat32 = KILN_DTYPE_FLOAT32,
  kFloat64 = KILN_DTYPE_FLOAT64,
  kUInt8 = KILN_DTYPE_UINT8,
  kInt8 = KILN_DTYPE_INT8,
  kUInt16 = KILN_DTYPE_UINT16,
  kInt16 = KILN_DTYPE_INT16,
  kUInt32 = KILN_DTYPE_UINT32,
  kInt32 = KILN_DTYPE_INT32,
  kUInt64 = KILN_DTYPE_UINT64,
  kInt64 = KILN_DTYPE_INT64,
};

inline size_t dtype_size(DType t) { return kiln_dtype_size(static_cast<int32_t>(t)); }
inline bool dtype_is_valid(int32_t code) { return kiln_dtype_size(code) != 0; }
// "float32"; "invalid(<code>)" for unknown codes.
std::string dtype_name(DType t);
// nullptr-free lookup; kInvalid when unknown.
DType dtype_from_name(std::string_view name);
// Static-storage name or nullptr (for the C ABI).
const char* dtype_c_name(int32_t code);
bool dtype_is_float(DType t);     // includes float8 variants
bool dtype_is_integral(DType t);  // signed and unsigned integers, not bool
bool dtype_is_signed_integral(DType t);
bool dtype_is_unsigned_integral(DType t);

}  // namespace kiln
