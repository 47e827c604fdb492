// kernels_cast.cpp: cast between every dtype but the fnuz float8 variants (float8_e4m3fn,
// float8_e5m2, the halves, float32/64, every integer type and bool), through one canonical block
// per source class (double for floats, int64 for integers and bool) so there is one loader per
// source and one writer per destination, not 225 loops.
//
// Semantics: float -> float rounds to nearest even (float64 -> half without double rounding;
// to float8, a value past the largest finite one becomes inf for e5m2 and NaN for e4m3fn, which
// has no inf — as ml_dtypes does);
// float -> integer truncates toward zero, NaN gives 0 and values out of range saturate to the
// destination's limits; integer -> integer wraps (two's complement, like numpy); anything -> bool
// is x != 0 (NaN is true); bool -> number is 0 or 1.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "convert.h"
#include "host.h"
#include "kernels.h"
#include "thread_pool.h"

namespace kiln_cpu {
namespace {

constexpr int64_t kGrain = 32768;

// ---- float8 -----------------------------------------------------------------------------------

// The two OCP float8 formats: e4m3fn (bias 7, no inf, NaN is S.1111.111, max 448) and e5m2
// (IEEE-like: bias 15, inf and NaN, max 57344).
struct F8Format {
  int mantissa_bits;
  int min_exponent;  // of the smallest normal
  int bias;
  double max_finite;
  uint8_t nan_code;
  bool has_inf;
};
constexpr F8Format kE4M3FN = {3, -6, 7, 448.0, 0x7F, false};
constexpr F8Format kE5M2 = {2, -14, 15, 57344.0, 0x7E, true};

struct f8e4m3fn {
  uint8_t bits;
};
struct f8e5m2 {
  uint8_t bits;
};
template <class T>
constexpr const F8Format& f8_format() {
  if constexpr (std::is_same_v<T, f8e4m3fn>) {
    return kE4M3FN;
  } else {
    return kE5M2;
  }
}
template <class T>
constexpr bool is_f8 = std::is_same_v<T, f8e4m3fn> || std::is_same_v<T, f8e5m2>;

double f8_decode(uint8_t code, const F8Format& f) {
  const bool negative = (code & 0x80u) != 0;
  const int magnitude = code & 0x7F;
  const int exponent = magnitude >> f.mantissa_bits;
  const int mantissa = magnitude & ((1 << f.mantissa_bits) - 1);
  double value;
  if (!f.has_inf && magnitude == 0x7F) {
    value = std::numeric_limits<double>::quiet_NaN();
  } else if (f.has_inf && exponent == (0x7F >> f.mantissa_bits)) {
    value = mantissa == 0 ? std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::quiet_NaN();
  } else if (exponent == 0) {
    value = std::ldexp(mantissa, f.min_exponent - f.mantissa_bits);
  } else {
    value = std::ldexp((1 << f.mantissa_bits) + mantissa, exponent - f.bias - f.mantissa_bits);
  }
  return negative ? -value : value;
}

// Rounds to nearest, ties to even, in one step from double.
uint8_t f8_encode(double d, const F8Format& f) {
  const uint8_t sign = std::signbit(d) ? 0x80 : 0;
  if (d != d) return static_cast<uint8_t>(sign | f.nan_code);
  const double a = std::fabs(d);
  const uint8_t overflow = f.has_inf ? 0x7C : 0x7F;
  if (a == 0) return sign;
  if (a > f.max_finite * 2) return static_cast<uint8_t>(sign | overflow);  // inf included
  int e = 0;
  std::frexp(a, &e);
  const int lead = std::max(e - 1, f.min_exponent);  // exponent of the leading bit, clamped
  const double quantum = std::ldexp(1.0, lead - f.mantissa_bits);
  const double q = std::nearbyint(a / quantum);  // exact division: quantum is a power of two
  const double r = q * quantum;
  if (r > f.max_finite) return static_cast<uint8_t>(sign | overflow);
  if (r == 0) return sign;
  std::frexp(r, &e);
  const int lead_r = e - 1;
  if (lead_r < f.min_exponent) return static_cast<uint8_t>(sign | static_cast<int>(q));
  const int mantissa =
      static_cast<int>(std::ldexp(r, f.mantissa_bits - lead_r)) - (1 << f.mantissa_bits);
  return static_cast<uint8_t>(sign | ((lead_r + f.bias) << f.mantissa_bits) | mantissa);
}

// ---- Loaders: source -> canonical block ------------------------------------------------------

template <class S>
void load_float(const void* src, double* out, int64_t n) {
  const S* s = static_cast<const S*>(src);
  if constexpr (is_f8<S>) {
    for (int64_t i = 0; i < n; ++i) out[i] = f8_decode(s[i].bits, f8_format<S>());
  } else if constexpr (is_half_type<S>::value) {
    float buffer[kConvertBlock];
    for (int64_t i = 0; i < n; i += kConvertBlock) {
      const int64_t m = std::min(kConvertBlock, n - i);
      to_float(s + i, buffer, m);
      for (int64_t j = 0; j < m; ++j) out[i + j] = buffer[j];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(s[i]);
  }
}

template <class S>
void load_int(const void* src, int64_t* out, int64_t n) {
  const S* s = static_cast<const S*>(src);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int64_t>(s[i]);
}

void load_bool(const void* src, int64_t* out, int64_t n) {
  const uint8_t* s = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) out[i] = s[i] != 0;
}

// ---- Writers: canonical block -> destination --------------------------------------------------

template <class D>
D saturate_to_int(double d) {
  constexpr double lo = static_cast<double>(std::numeric_limits<D>::min());
  // max + 1 is a power of two, exact in double: anything at or above it saturates.
  constexpr double hi_exclusive = static_cast<double>(std::numeric_limits<D>::max()) + 1.0;
  if (d != d) return 0;
  if (d >= hi_exclusive) return std::numeric_limits<D>::max();
  if (d <= lo) return std::numeric_limits<D>::min();
  return static_cast<D>(d);  // truncates toward zero
}

// Rounds an int64 to float "to odd" (see half.h), exactly for every int64: long double holds 64
// significant bits.
float int_to_float_round_odd(int64_t v) {
  const long double exact = static_cast<long double>(v);
  float f = static_cast<float>(exact);
  if (static_cast<long double>(f) == exact) return f;
  uint32_t u = float_bits(f);
  const long double af = f < 0 ? -static_cast<long double>(f) : static_cast<long double>(f);
  const long double ae = exact < 0 ? -exact : exact;
  if (af > ae) u -= 1;
  return bits_float(u | 1u);
}

template <class D>
void write_from_float(const double* in, void* dst, int64_t n) {
  D* d = static_cast<D*>(dst);
  if constexpr (std::is_same_v<D, double>) {
    std::memcpy(d, in, static_cast<size_t>(n) * sizeof(double));
  } else if constexpr (is_f8<D>) {
    for (int64_t i = 0; i < n; ++i) d[i].bits = f8_encode(in[i], f8_format<D>());
  } else if constexpr (std::is_same_v<D, float>) {
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(in[i]);
  } else if constexpr (std::is_same_v<D, f16>) {
    for (int64_t i = 0; i < n; ++i) d[i] = float_to_f16(double_to_float_round_odd(in[i]));
  } else if constexpr (std::is_same_v<D, bf16>) {
    for (int64_t i = 0; i < n; ++i) d[i] = float_to_bf16(double_to_float_round_odd(in[i]));
  } else if constexpr (std::is_same_v<D, bool>) {
    uint8_t* b = static_cast<uint8_t*>(dst);
    for (int64_t i = 0; i < n; ++i) b[i] = in[i] != 0.0;
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = saturate_to_int<D>(in[i]);
  }
}

template <class D>
void write_from_int(const int64_t* in, void* dst, int64_t n) {
  D* d = static_cast<D*>(dst);
  if constexpr (std::is_same_v<D, double> || std::is_same_v<D, float>) {
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<D>(in[i]);
  } else if constexpr (is_f8<D>) {
    // Every integer float8 can hold is far below 2^53, so going through double is exact there.
    for (int64_t i = 0; i < n; ++i) {
      d[i].bits = f8_encode(static_cast<double>(in[i]), f8_format<D>());
    }
  } else if constexpr (std::is_same_v<D, f16>) {
    // |v| > 2^24 already rounds to infinity in float16, so one rounding through float is exact.
    for (int64_t i = 0; i < n; ++i) d[i] = float_to_f16(static_cast<float>(in[i]));
  } else if constexpr (std::is_same_v<D, bf16>) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = in[i];
      const bool exact = v >= -(int64_t{1} << 24) && v <= (int64_t{1} << 24);
      d[i] = float_to_bf16(exact ? static_cast<float>(v) : int_to_float_round_odd(v));
    }
  } else if constexpr (std::is_same_v<D, bool>) {
    uint8_t* b = static_cast<uint8_t*>(dst);
    for (int64_t i = 0; i < n; ++i) b[i] = in[i] != 0;
  } else {
    using U = std::make_unsigned_t<D>;
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<D>(static_cast<U>(in[i]));
  }
}

using FloatLoader = void (*)(const void*, double*, int64_t);
using IntLoader = void (*)(const void*, int64_t*, int64_t);
using FloatWriter = void (*)(const double*, void*, int64_t);
using IntWriter = void (*)(const int64_t*, void*, int64_t);

struct CastPlan {
  FloatLoader float_loader = nullptr;  // exactly one loader is set
  IntLoader int_loader = nullptr;
  FloatWriter float_writer = nullptr;  // the writer matching the loader
  IntWriter int_writer = nullptr;
};

template <class D>
bool set_writers(CastPlan* plan) {
  plan->float_writer = write_from_float<D>;
  plan->int_writer = write_from_int<D>;
  return true;
}

bool is_float_dtype(int32_t dtype) {
  return dtype >= KILN_DTYPE_FLOAT8_E4M3FN && dtype <= KILN_DTYPE_FLOAT64;
}

bool make_cast_plan(int32_t from, int32_t to, CastPlan* plan) {
  switch (from) {
    case KILN_DTYPE_FLOAT32:
      plan->float_loader = load_float<float>;
      break;
    case KILN_DTYPE_FLOAT64:
      plan->float_loader = load_float<double>;
      break;
    case KILN_DTYPE_FLOAT16:
      plan->float_loader = load_float<f16>;
      break;
    case KILN_DTYPE_BFLOAT16:
      plan->float_loader = load_float<bf16>;
      break;
    case KILN_DTYPE_INT32:
      plan->int_loader = load_int<int32_t>;
      break;
    case KILN_DTYPE_INT64:
      plan->int_loader = load_int<int64_t>;
      break;
    case KILN_DTYPE_UINT8:
      plan->int_loader = load_int<uint8_t>;
      break;
    case KILN_DTYPE_INT8:
      plan->int_loader = load_int<int8_t>;
      break;
    case KILN_DTYPE_INT16:
      plan->int_loader = load_int<int16_t>;
      break;
    case KILN_DTYPE_UINT16:
      plan->int_loader = load_int<uint16_t>;
      break;
    case KILN_DTYPE_UINT32:
      plan->int_loader = load_int<uint32_t>;
      break;
    case KILN_DTYPE_UINT64:
      // Values past INT64_MAX would turn negative in the int64 block: to a float they load as
      // floats instead (integer destinations wrap either way, and bool only asks for nonzero).
      if (is_float_dtype(to)) {
        plan->float_loader = load_float<uint64_t>;
      } else {
        plan->int_loader = load_int<uint64_t>;
      }
      break;
    case KILN_DTYPE_FLOAT8_E4M3FN:
      plan->float_loader = load_float<f8e4m3fn>;
      break;
    case KILN_DTYPE_FLOAT8_E5M2:
      plan->float_loader = load_float<f8e5m2>;
      break;
    case KILN_DTYPE_BOOL:
      plan->int_loader = load_bool;
      break;
    default:
      return false;
  }
  switch (to) {
    case KILN_DTYPE_FLOAT32:
      return set_writers<float>(plan);
    case KILN_DTYPE_FLOAT64:
      return set_writers<double>(plan);
    case KILN_DTYPE_FLOAT16:
      return set_writers<f16>(plan);
    case KILN_DTYPE_BFLOAT16:
      return set_writers<bf16>(plan);
    case KILN_DTYPE_INT32:
      return set_writers<int32_t>(plan);
    case KILN_DTYPE_INT64:
      return set_writers<int64_t>(plan);
    case KILN_DTYPE_UINT8:
      return set_writers<uint8_t>(plan);
    case KILN_DTYPE_INT8:
      return set_writers<int8_t>(plan);
    case KILN_DTYPE_INT16:
      return set_writers<int16_t>(plan);
    case KILN_DTYPE_UINT16:
      return set_writers<uint16_t>(plan);
    case KILN_DTYPE_UINT32:
      return set_writers<uint32_t>(plan);
    case KILN_DTYPE_UINT64:
      return set_writers<uint64_t>(plan);
    case KILN_DTYPE_FLOAT8_E4M3FN:
      return set_writers<f8e4m3fn>(plan);
    case KILN_DTYPE_FLOAT8_E5M2:
      return set_writers<f8e5m2>(plan);
    case KILN_DTYPE_BOOL:
      return set_writers<bool>(plan);
    default:
      return false;
  }
}

// Fast paths for the conversions models run all the time.
bool try_vector_cast(int32_t from, int32_t to, const void* src, void* dst, int64_t n) {
  if (from == KILN_DTYPE_FLOAT32 && to == KILN_DTYPE_FLOAT16) {
    vec().f32_to_f16(static_cast<const float*>(src), static_cast<f16*>(dst), n);
  } else if (from == KILN_DTYPE_FLOAT32 && to == KILN_DTYPE_BFLOAT16) {
    vec().f32_to_bf16(static_cast<const float*>(src), static_cast<bf16*>(dst), n);
  } else if (from == KILN_DTYPE_FLOAT16 && to == KILN_DTYPE_FLOAT32) {
    vec().f16_to_f32(static_cast<const f16*>(src), static_cast<float*>(dst), n);
  } else if (from == KILN_DTYPE_BFLOAT16 && to == KILN_DTYPE_FLOAT32) {
    vec().bf16_to_f32(static_cast<const bf16*>(src), static_cast<float*>(dst), n);
  } else {
    return false;
  }
  return true;
}

kiln_status* cast_kernel(Kernel& k, const void*) {
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  if (x.num_elements != y.num_elements) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output shape %s does not match input %s",
                   shape_string(y).c_str(), shape_string(x).c_str());
  }
  // The output's dtype is the cast's target (the `dtype` attribute, as inferred by the core).
  CastPlan plan;
  if (!make_cast_plan(x.dtype, y.dtype, &plan)) {
    return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU cast from %s to %s", dtype_name(x.dtype),
                   dtype_name(y.dtype));
  }
  const int64_t n = x.num_elements;
  const size_t in_size = x.element_size();
  const size_t out_size = y.element_size();
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(y.data);
  if (x.dtype == y.dtype) {
    parallel_for(n, kGrain, k.num_threads(), [&](int64_t b, int64_t e) {
      std::memcpy(dst + b * in_size, src + b * in_size, static_cast<size_t>(e - b) * in_size);
    });
    return nullptr;
  }
  parallel_for(n, kGrain, k.num_threads(), [&](int64_t b, int64_t e) {
    if (try_vector_cast(x.dtype, y.dtype, src + b * in_size, dst + b * out_size, e - b)) return;
    double fbuf[kConvertBlock];
    int64_t ibuf[kConvertBlock];
    for (int64_t i = b; i < e; i += kConvertBlock) {
      const int64_t m = std::min(kConvertBlock, e - i);
      if (plan.float_loader) {
        plan.float_loader(src + i * in_size, fbuf, m);
        plan.float_writer(fbuf, dst + i * out_size, m);
      } else {
        plan.int_loader(src + i * in_size, ibuf, m);
        plan.int_writer(ibuf, dst + i * out_size, m);
      }
    }
  });
  return nullptr;
}

}  // namespace

kiln_status* register_cast_kernels(kiln_registrar* registrar) {
  return register_kernel(registrar, "cast", kCastTypes, 0, kernel_entry<cast_kernel>, nullptr);
}

}  // namespace kiln_cpu
