// convert.h: bulk conversions between storage types and the type kernels compute in (float for
// the halves), so each op family has one float loop and the halves go through it in blocks.
#pragma once

#include <cstdint>
#include <cstring>

#include "half.h"
#include "vec.h"

namespace kiln_cpu {

// Elements per conversion block: small enough for the stack, large enough to amortize a call.
constexpr int64_t kConvertBlock = 512;

inline void to_float(const f16* x, float* y, int64_t n) { vec().f16_to_f32(x, y, n); }
inline void to_float(const bf16* x, float* y, int64_t n) { vec().bf16_to_f32(x, y, n); }
inline void to_float(const float* x, float* y, int64_t n) {
  if (x != y) std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}
inline void from_float(const float* x, f16* y, int64_t n) { vec().f32_to_f16(x, y, n); }
inline void from_float(const float* x, bf16* y, int64_t n) { vec().f32_to_bf16(x, y, n); }
inline void from_float(const float* x, float* y, int64_t n) {
  if (x != y) std::memcpy(y, x, static_cast<size_t>(n) * sizeof(float));
}

inline float to_float(f16 h) { return f16_to_float(h); }
inline float to_float(bf16 h) { return bf16_to_float(h); }

template <class T>
struct is_half_type {
  static constexpr bool value = false;
};
template <>
struct is_half_type<f16> {
  static constexpr bool value = true;
};
template <>
struct is_half_type<bf16> {
  static constexpr bool value = true;
};

}  // namespace kiln_cpu
