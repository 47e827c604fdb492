// float_formats: float16 / bfloat16 / float8 conversions.
#include "float_formats.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "kiln/kiln_types.h"

namespace kiln::cli {
namespace {

uint32_t float_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}
float bits_float(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

// The layout of a float8 format: exponent bias, mantissa bits, and which codes are special.
struct Float8Format {
  int exponent_bias;
  int mantissa_bits;
  bool nan_is_0x80;    // "fnuz" formats: 0x80 is the only NaN, no negative zero, no inf
  bool ieee_specials;  // e5m2: exponent all ones is inf / NaN
};

Float8Format float8_format(int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT8_E4M3FN:
      return {7, 3, false, false};
    case KILN_DTYPE_FLOAT8_E4M3FNUZ:
      return {8, 3, true, false};
    case KILN_DTYPE_FLOAT8_E5M2:
      return {15, 2, false, true};
    default:  // KILN_DTYPE_FLOAT8_E5M2FNUZ
      return {16, 2, true, false};
  }
}

}  // namespace

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return bits_float(sign | 0x7f800000u | (mantissa << 13));
  return bits_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t float_to_half(float value) {
  const uint32_t x = float_bits(value);
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t magnitude = x & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {  // inf or NaN
    return sign | (magnitude > 0x7f800000u ? 0x7e00u : 0x7c00u);
  }
  if (magnitude >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to inf
  if (magnitude < 0x38800000u) {                        // below 2^-14: subnormal (or zero)
    // Units of 2^-24; the scaling is exact and nearbyint rounds to nearest even.
    const auto units = static_cast<uint32_t>(std::nearbyint(bits_float(magnitude) * 16777216.0f));
    return static_cast<uint16_t>(sign | units);
  }
  uint32_t half = ((((magnitude >> 23) - 112) << 10) | ((magnitude & 0x7fffffu) >> 13));
  const uint32_t rest = magnitude & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // a carry is still right
  return static_cast<uint16_t>(sign | half);
}

float bfloat16_to_float(uint16_t bits) { return bits_float(static_cast<uint32_t>(bits) << 16); }

uint16_t float_to_bfloat16(float value) {
  const uint32_t x = float_bits(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x0040u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

bool is_float8(int32_t dtype) {
  return dtype == KILN_DTYPE_FLOAT8_E4M3FN || dtype == KILN_DTYPE_FLOAT8_E4M3FNUZ ||
         dtype == KILN_DTYPE_FLOAT8_E5M2 || dtype == KILN_DTYPE_FLOAT8_E5M2FNUZ;
}

float float8_to_float(uint8_t bits, int32_t dtype) {
  const Float8Format f = float8_format(dtype);
  const int exponent_bits = 7 - f.mantissa_bits;
  const int exponent_max = (1 << exponent_bits) - 1;
  const bool negative = (bits & 0x80u) != 0;
  const int exponent = (bits >> f.mantissa_bits) & exponent_max;
  const int mantissa = bits & ((1 << f.mantissa_bits) - 1);
  if (f.nan_is_0x80 && bits == 0x80u) return std::numeric_limits<float>::quiet_NaN();
  if (!f.nan_is_0x80 && !f.ieee_specials && exponent == exponent_max &&
      mantissa == (1 << f.mantissa_bits) - 1) {
    return std::numeric_limits<float>::quiet_NaN();  // e4m3fn: S.1111.111
  }
  if (f.ieee_specials && exponent == exponent_max) {
    if (mantissa != 0) return std::numeric_limits<float>::quiet_NaN();
    return negative ? -std::numeric_limits<float>::infinity()
                    : std::numeric_limits<float>::infinity();
  }
  const float scale = static_cast<float>(1 << f.mantissa_bits);
  const float magnitude = exponent == 0
                              ? std::ldexp(mantissa / scale, 1 - f.exponent_bias)
                              : std::ldexp(1.0f + mantissa / scale, exponent - f.exponent_bias);
  return negative ? -magnitude : magnitude;
}

uint8_t float_to_float8(float value, int32_t dtype) {
  const bool fnuz = float8_format(dtype).nan_is_0x80;
  if (std::isnan(value)) return fnuz ? 0x80u : dtype == KILN_DTYPE_FLOAT8_E5M2 ? 0x7eu : 0x7fu;
  const uint8_t sign = std::signbit(value) ? 0x80u : 0x00u;
  if (value == 0.0f) return fnuz ? 0x00u : sign;  // fnuz formats have no negative zero
  if (std::isinf(value)) {
    if (dtype == KILN_DTYPE_FLOAT8_E5M2) return sign | 0x7cu;
    value = std::copysign(std::numeric_limits<float>::max(), value);
  }
  // Nearest magnitude among the 128 non-negative codes (simple and exact), then the sign.
  const float magnitude = std::fabs(value);
  int best = 0;
  float best_distance = std::numeric_limits<float>::infinity();
  for (int code = 0; code < 128; ++code) {
    const float candidate = float8_to_float(static_cast<uint8_t>(code), dtype);
    if (!std::isfinite(candidate)) continue;
    const float distance = std::fabs(candidate - magnitude);
    if (distance < best_distance || (distance == best_distance && (code & 1) == 0)) {
      best = code;
      best_distance = distance;
    }
  }
  if (best == 0 && fnuz) return 0x00u;
  return static_cast<uint8_t>(sign | best);
}

bool needs_float32_widening(int32_t dtype) {
  return dtype == KILN_DTYPE_BFLOAT16 || is_float8(dtype);
}

double element_as_double(const uint8_t* data, int32_t dtype, size_t index) {
  const size_t size = kiln_dtype_size(dtype);
  const uint8_t* p = data + index * size;
  auto load = [p](auto zero) {
    decltype(zero) value;
    std::memcpy(&value, p, sizeof(value));
    return static_cast<double>(value);
  };
  switch (dtype) {
    case KILN_DTYPE_BOOL:
      return *p != 0 ? 1.0 : 0.0;
    case KILN_DTYPE_FLOAT16:
      return half_to_float(static_cast<uint16_t>(load(uint16_t{})));
    case KILN_DTYPE_BFLOAT16:
      return bfloat16_to_float(static_cast<uint16_t>(load(uint16_t{})));
    case KILN_DTYPE_FLOAT32:
      return load(float{});
    case KILN_DTYPE_FLOAT64:
      return load(double{});
    case KILN_DTYPE_UINT8:
      return load(uint8_t{});
    case KILN_DTYPE_INT8:
      return load(int8_t{});
    case KILN_DTYPE_UINT16:
      return load(uint16_t{});
    case KILN_DTYPE_INT16:
      return load(int16_t{});
    case KILN_DTYPE_UINT32:
      return load(uint32_t{});
    case KILN_DTYPE_INT32:
      return load(int32_t{});
    case KILN_DTYPE_UINT64:
      return load(uint64_t{});
    case KILN_DTYPE_INT64:
      return load(int64_t{});
    default:
      return is_float8(dtype) ? float8_to_float(*p, dtype)
                              : std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace kiln::cli
