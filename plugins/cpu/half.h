// half.h: float16 and bfloat16 storage types and their scalar conversions to and from float32
// (round to nearest, ties to even; NaN stays NaN). Kernels compute in float32 and store halves.
//
// Every function here has internal linkage (static inline): this header is also compiled into the
// AVX2 translation unit, and an inline function with external linkage emitted there could be
// picked by the linker for the baseline code too, running AVX2 instructions on a CPU without them.
#pragma once

#include <cstdint>
#include <cstring>

namespace kiln_cpu {

struct f16 {
  uint16_t bits;
};
struct bf16 {
  uint16_t bits;
};
static_assert(sizeof(f16) == 2 && sizeof(bf16) == 2, "half types must be 2 bytes");

static inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

static inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// bfloat16 is the upper half of a float32. Rounding adds 0x7FFF plus the lowest kept bit, so a tie
// rounds to an even result; NaNs skip the rounding (it could carry into the sign or make an
// infinity) and get their quiet bit set so a signalling payload living in the low bits survives.
static inline bf16 float_to_bf16(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return bf16{static_cast<uint16_t>((u >> 16) | 0x0040u)};
  u += 0x7FFFu + ((u >> 16) & 1u);
  return bf16{static_cast<uint16_t>(u >> 16)};
}

static inline float bf16_to_float(bf16 h) {
  return bits_float(static_cast<uint32_t>(h.bits) << 16);
}

// float16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
static inline f16 float_to_f16(float f) {
  const uint32_t u = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) {  // Inf or NaN
    const uint16_t payload = a > 0x7F800000u ? static_cast<uint16_t>(0x0200u | (a >> 13)) : 0;
    return f16{static_cast<uint16_t>(sign | 0x7C00u | payload)};
  }
  if (a >= 0x477FF000u) return f16{static_cast<uint16_t>(sign | 0x7C00u)};  // rounds past 65504
  if (a >= 0x38800000u) {  // normal in float16 (>= 2^-14)
    // Rebias the exponent (127 -> 15) and round away the 13 low mantissa bits, ties to even.
    const uint32_t rebased = a - (112u << 23);
    const uint32_t rounded = rebased + 0x0FFFu + ((rebased >> 13) & 1u);
    return f16{static_cast<uint16_t>(sign | (rounded >> 13))};
  }
  if (a < 0x33000000u) return f16{sign};  // below half of the smallest subnormal (2^-25): zero
  // Subnormal in float16: value = m * 2^-24 with m < 1024. Shift the full significand.
  const uint32_t exponent = a >> 23;  // 102 .. 112
  const uint32_t significand = (a & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - exponent;  // 14 .. 24
  const uint32_t kept = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  const uint32_t up = (rest > half || (rest == half && (kept & 1u))) ? 1u : 0u;
  return f16{static_cast<uint16_t>(sign | (kept + up))};
}

static inline float f16_to_float(f16 h) {
  const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
  const uint32_t exponent = (h.bits >> 10) & 0x1Fu;
  const uint32_t mantissa = h.bits & 0x3FFu;
  if (exponent == 0x1Fu) return bits_float(sign | 0x7F800000u | (mantissa << 13));
  if (exponent != 0) return bits_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  // Zero or subnormal: m * 2^-24, exact in float32.
  const float magnitude = static_cast<float>(mantissa) * bits_float(0x33800000u);  // 2^-24
  return bits_float(sign | float_bits(magnitude));
}

// A double rounded to float32 "to odd": truncated toward zero, with the last bit forced to 1 when
// anything was lost. Rounding that to a half is then the correctly rounded half of the double
// (float32 keeps more than two extra bits over either half format), avoiding double rounding.
static inline float double_to_float_round_odd(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) == d || d != d) return f;
  const double ad = d < 0 ? -d : d;
  const float af = f < 0 ? -f : f;
  uint32_t u = float_bits(f);
  if (static_cast<double>(af) > ad) u -= 1;  // rounded away from zero: step back toward it
  return bits_float(u | 1u);
}

}  // namespace kiln_cpu
