// dtype.cuh: element types as the GPU kernels store them (float16/bfloat16 as 16-bit patterns
// converted in software, identical on CUDA and HIP), conversions through float32, the dtype
// dispatch, and the strided index arithmetic of broadcasting and layout kernels.
#ifndef KILN_PLUGINS_GPU_DTYPE_CUH_
#define KILN_PLUGINS_GPU_DTYPE_CUH_

#include <cstdint>
#include <cstring>

#include "kernel_call.h"
#include "vendor.h"

namespace kiln::gpu {

struct half_t {
  uint16_t bits;
};
struct bfloat_t {
  uint16_t bits;
};

__host__ __device__ inline float bits_to_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}
__host__ __device__ inline uint32_t float_to_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof(u));
  return u;
}

__host__ __device__ inline float to_float(float v) { return v; }
__host__ __device__ inline float to_float(int32_t v) { return static_cast<float>(v); }
__host__ __device__ inline float to_float(int64_t v) { return static_cast<float>(v); }
__host__ __device__ inline float to_float(bool v) { return v ? 1.0f : 0.0f; }
__host__ __device__ inline float to_float(bfloat_t v) {
  return bits_to_float(static_cast<uint32_t>(v.bits) << 16);
}
__host__ __device__ inline float to_float(half_t v) {
  const uint32_t sign = static_cast<uint32_t>(v.bits & 0x8000u) << 16;
  uint32_t exponent = (v.bits >> 10) & 0x1Fu;
  uint32_t mantissa = v.bits & 0x3FFu;
  if (exponent == 0x1Fu) return bits_to_float(sign | 0x7F800000u | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0) return bits_to_float(sign);
    exponent = 113;  // normalize the subnormal
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    mantissa &= 0x3FFu;
    return bits_to_float(sign | (exponent << 23) | (mantissa << 13));
  }
  return bits_to_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Round to nearest even, NaN kept quiet (as the CPU plugin).
__host__ __device__ inline bfloat_t to_bfloat(float f) {
  const uint32_t u = float_to_bits(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return bfloat_t{static_cast<uint16_t>((u >> 16) | 0x40u)};
  return bfloat_t{static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16)};
}

__host__ __device__ inline half_t to_half(float f) {
  const uint32_t u = float_to_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return half_t{static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x1FFu))};
  if (a >= 0x477FF000u) return half_t{static_cast<uint16_t>(sign | 0x7C00u)};
  if (a >= 0x38800000u) {  // normal half
    const uint32_t rounded = a - 0x38000000u + 0xFFFu + ((a >> 13) & 1u);
    return half_t{static_cast<uint16_t>(sign | (rounded >> 13))};
  }
  if (a < 0x33000000u) return half_t{sign};
  const uint32_t exponent = a >> 23;
  const uint32_t mantissa = (a & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - exponent;  // 14..24
  const uint32_t kept = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1u);
  const uint32_t up = (rest > halfway || (rest == halfway && (kept & 1u))) ? 1u : 0u;
  return half_t{static_cast<uint16_t>(sign | (kept + up))};
}

template <typename T>
__host__ __device__ inline T from_float(float f);
template <>
__host__ __device__ inline float from_float<float>(float f) { return f; }
template <>
__host__ __device__ inline half_t from_float<half_t>(float f) { return to_half(f); }
template <>
__host__ __device__ inline bfloat_t from_float<bfloat_t>(float f) { return to_bfloat(f); }
template <>
__host__ __device__ inline int32_t from_float<int32_t>(float f) {
  if (f != f) return 0;
  if (f >= 2147483647.0f) return 2147483647;
  if (f <= -2147483648.0f) return static_cast<int32_t>(-2147483647 - 1);
  return static_cast<int32_t>(f);
}
template <>
__host__ __device__ inline int64_t from_float<int64_t>(float f) {
  if (f != f) return 0;
  if (f >= 9.2233720368547758e18f) return INT64_MAX;
  if (f <= -9.2233720368547758e18f) return INT64_MIN;
  return static_cast<int64_t>(f);
}
template <>
__host__ __device__ inline bool from_float<bool>(float f) { return f != 0.0f; }

template <typename T>
struct is_integer_type {
  static constexpr bool value = false;
};
template <>
struct is_integer_type<int32_t> {
  static constexpr bool value = true;
};
template <>
struct is_integer_type<int64_t> {
  static constexpr bool value = true;
};

// Calls f(T{}) with the storage type of `dtype`; false for a dtype outside the set.
template <typename F>
bool dispatch_all(int32_t dtype, F&& f) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT32: f(float{}); return true;
    case KILN_DTYPE_FLOAT16: f(half_t{}); return true;
    case KILN_DTYPE_BFLOAT16: f(bfloat_t{}); return true;
    case KILN_DTYPE_INT32: f(int32_t{}); return true;
    case KILN_DTYPE_INT64: f(int64_t{}); return true;
    case KILN_DTYPE_BOOL: f(bool{}); return true;
    default: return false;
  }
}
template <typename F>
bool dispatch_arithmetic(int32_t dtype, F&& f) {
  if (dtype == KILN_DTYPE_BOOL) return false;
  return dispatch_all(dtype, f);
}
template <typename F>
bool dispatch_float(int32_t dtype, F&& f) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT32: f(float{}); return true;
    case KILN_DTYPE_FLOAT16: f(half_t{}); return true;
    case KILN_DTYPE_BFLOAT16: f(bfloat_t{}); return true;
    default: return false;
  }
}

// A strided view for index arithmetic: element i of a contiguous iteration over `shape` reads
// element offset + sum(coord[d] * stride[d]). Strides 0 broadcast; negative ones step back.
struct Strided {
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t stride[kMaxRank] = {};
  int64_t offset = 0;

  __device__ int64_t at(int64_t i) const {
    int64_t result = offset;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t coord = i % shape[d];
      i /= shape[d];
      result += coord * stride[d];
    }
    return result;
  }
};

// Row-major strides of a contiguous shape.
inline void contiguous_strides(const int64_t* shape, int rank, int64_t* out) {
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; --d) {
    out[d] = s;
    s *= shape[d];
  }
}

}  // namespace kiln::gpu

#endif  // KILN_PLUGINS_GPU_DTYPE_CUH_
