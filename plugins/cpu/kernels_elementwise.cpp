// kernels_elementwise.cpp: binary arithmetic, comparisons and logic (numpy broadcasting), unary
// math and predicates, gelu and where.
//
// Integer semantics (no undefined behaviour, no traps): add/sub/mul/negate/abs wrap in two's
// complement; division truncates toward zero, x / 0 is 0 and INT_MIN / -1 wraps to INT_MIN; pow
// uses repeated squaring (wrapping), and a negative exponent gives 0 unless the base is 1 or -1.
// mod takes the sign of the divisor (Python's %, numpy's mod): x mod 0 is 0 for integers and
// NaN for floats. Float max/min propagate NaN (as numpy's maximum/minimum). Bool operands of
// the logical ops count any nonzero byte as true.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "broadcast.h"
#include "convert.h"
#include "host.h"
#include "kernels.h"
#include "thread_pool.h"
#include "vec.h"

namespace kiln_cpu {
namespace {

constexpr int64_t kCheapGrain = 16384;  // elements per chunk for loads, stores and one op
constexpr int64_t kMathGrain = 4096;    // for transcendental functions

// ---- Binary ops -------------------------------------------------------------------------------

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kPow,
  kMod,
  kMax,
  kMin,
  kEqual,
  kNotEqual,
  kGreater,
  kGreaterEqual,
  kLogicalAnd,
  kLogicalOr,
  kLogicalXor,
};

template <class T>
using Unsigned = std::make_unsigned_t<T>;

template <class T>
T int_pow(T base, T exponent) {
  if constexpr (std::is_signed_v<T>) {
    if (exponent < 0) {
      if (base == 1) return 1;
      if (base == -1) return (exponent & 1) ? T(-1) : T(1);
      return 0;
    }
  }
  Unsigned<T> result = 1;
  Unsigned<T> b = static_cast<Unsigned<T>>(base);
  Unsigned<T> e = static_cast<Unsigned<T>>(exponent);
  while (e != 0) {
    if (e & 1u) result *= b;
    b *= b;
    e >>= 1;
  }
  return static_cast<T>(result);
}

struct AddOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<Unsigned<T>>(a) + static_cast<Unsigned<T>>(b));
    } else {
      return a + b;
    }
  }
};
struct SubOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<Unsigned<T>>(a) - static_cast<Unsigned<T>>(b));
    } else {
      return a - b;
    }
  }
};
struct MulOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(static_cast<Unsigned<T>>(a) * static_cast<Unsigned<T>>(b));
    } else {
      return a * b;
    }
  }
};
struct DivOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return static_cast<T>(Unsigned<T>(0) - static_cast<Unsigned<T>>(a));
      }
      return static_cast<T>(a / b);
    } else {
      return a / b;
    }
  }
};
struct PowOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      return int_pow(a, b);
    } else {
      return std::pow(a, b);
    }
  }
};
struct ModOp {
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return 0;  // INT_MIN % -1 would trap
        const T r = static_cast<T>(a % b);
        return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<T>(r + b) : r;
      } else {
        return static_cast<T>(a % b);
      }
    } else {
      T r = std::fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      // A zero remainder takes the divisor's sign, as in numpy.
      if (r == 0) r = std::copysign(T(0), b);
      return r;
    }
  }
};
struct MaxOp {
  template <class T>
  static T apply(T a, T b) {
    return (a > b || a != a) ? a : b;  // NaN in either operand wins
  }
};
struct MinOp {
  template <class T>
  static T apply(T a, T b) {
    return (a < b || a != a) ? a : b;
  }
};
struct EqualOp {
  template <class T>
  static bool apply(T a, T b) {
    return a == b;
  }
};
struct NotEqualOp {
  template <class T>
  static bool apply(T a, T b) {
    return a != b;
  }
};
struct GreaterOp {
  template <class T>
  static bool apply(T a, T b) {
    return a > b;
  }
};
struct GreaterEqualOp {
  template <class T>
  static bool apply(T a, T b) {
    return a >= b;
  }
};

// One contiguous run: out[i] = op(a[i * sa], b[i * sb]) with sa, sb in {0, 1}. The four stride
// patterns get their own loops so each vectorizes.
using BinaryRunFn = void (*)(const void* a, int64_t sa, const void* b, int64_t sb, void* out,
                             int64_t n);

template <class T, class R, class Op>
void binary_run(const void* av, int64_t sa, const void* bv, int64_t sb, void* ov, int64_t n) {
  const T* __restrict a = static_cast<const T*>(av);
  const T* __restrict b = static_cast<const T*>(bv);
  R* __restrict out = static_cast<R*>(ov);
  if (sa != 0 && sb != 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<R>(Op::apply(a[i], b[i]));
  } else if (sa != 0) {
    const T y = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<R>(Op::apply(a[i], y));
  } else if (sb != 0) {
    const T x = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<R>(Op::apply(x, b[i]));
  } else {
    const R v = static_cast<R>(Op::apply(a[0], b[0]));
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

template <class T>
BinaryRunFn arithmetic_run(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return binary_run<T, T, AddOp>;
    case BinaryOp::kSub:
      return binary_run<T, T, SubOp>;
    case BinaryOp::kMul:
      return binary_run<T, T, MulOp>;
    case BinaryOp::kDiv:
      return binary_run<T, T, DivOp>;
    case BinaryOp::kPow:
      return binary_run<T, T, PowOp>;
    case BinaryOp::kMod:
      return binary_run<T, T, ModOp>;
    case BinaryOp::kMax:
      return binary_run<T, T, MaxOp>;
    case BinaryOp::kMin:
      return binary_run<T, T, MinOp>;
    case BinaryOp::kEqual:
      return binary_run<T, uint8_t, EqualOp>;
    case BinaryOp::kNotEqual:
      return binary_run<T, uint8_t, NotEqualOp>;
    case BinaryOp::kGreater:
      return binary_run<T, uint8_t, GreaterOp>;
    case BinaryOp::kGreaterEqual:
      return binary_run<T, uint8_t, GreaterEqualOp>;
    case BinaryOp::kLogicalAnd:
    case BinaryOp::kLogicalOr:
    case BinaryOp::kLogicalXor:
      return nullptr;  // bool only
  }
  return nullptr;
}

// bool operands compare by truth value (any nonzero byte is true).
struct BoolEqualOp {
  static bool apply(uint8_t a, uint8_t b) { return (a != 0) == (b != 0); }
};
struct BoolNotEqualOp {
  static bool apply(uint8_t a, uint8_t b) { return (a != 0) != (b != 0); }
};
struct LogicalAndOp {
  static bool apply(uint8_t a, uint8_t b) { return a != 0 && b != 0; }
};
struct LogicalOrOp {
  static bool apply(uint8_t a, uint8_t b) { return a != 0 || b != 0; }
};

BinaryRunFn bool_run(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEqual:
      return binary_run<uint8_t, uint8_t, BoolEqualOp>;
    case BinaryOp::kNotEqual:
    case BinaryOp::kLogicalXor:
      return binary_run<uint8_t, uint8_t, BoolNotEqualOp>;
    case BinaryOp::kLogicalAnd:
      return binary_run<uint8_t, uint8_t, LogicalAndOp>;
    case BinaryOp::kLogicalOr:
      return binary_run<uint8_t, uint8_t, LogicalOrOp>;
    default:
      return nullptr;
  }
}

// The run function computing `op` for `dtype` (halves: the float32 one), or null.
BinaryRunFn select_binary_run(BinaryOp op, int32_t dtype) {
  switch (dtype) {
    case KILN_DTYPE_FLOAT32:
    case KILN_DTYPE_FLOAT16:
    case KILN_DTYPE_BFLOAT16:
      return arithmetic_run<float>(op);
    case KILN_DTYPE_FLOAT64:
      return arithmetic_run<double>(op);
    case KILN_DTYPE_INT8:
      return arithmetic_run<int8_t>(op);
    case KILN_DTYPE_INT16:
      return arithmetic_run<int16_t>(op);
    case KILN_DTYPE_INT32:
      return arithmetic_run<int32_t>(op);
    case KILN_DTYPE_INT64:
      return arithmetic_run<int64_t>(op);
    case KILN_DTYPE_UINT8:
      return arithmetic_run<uint8_t>(op);
    case KILN_DTYPE_UINT16:
      return arithmetic_run<uint16_t>(op);
    case KILN_DTYPE_UINT32:
      return arithmetic_run<uint32_t>(op);
    case KILN_DTYPE_UINT64:
      return arithmetic_run<uint64_t>(op);
    case KILN_DTYPE_BOOL:
      return bool_run(op);
    default:
      return nullptr;
  }
}

// Ops with a bool result.
bool is_comparison(BinaryOp op) {
  return op == BinaryOp::kEqual || op == BinaryOp::kNotEqual || op == BinaryOp::kGreater ||
         op == BinaryOp::kGreaterEqual || op == BinaryOp::kLogicalAnd ||
         op == BinaryOp::kLogicalOr || op == BinaryOp::kLogicalXor;
}

// A run over half operands: converted to float in blocks, computed by the float32 run.
template <class H>
void half_binary_run(BinaryRunFn f32_run, bool compare, const H* a, int64_t sa, const H* b,
                     int64_t sb, void* out, int64_t n) {
  float fa[kConvertBlock];
  float fb[kConvertBlock];
  float fo[kConvertBlock];
  for (int64_t i = 0; i < n; i += kConvertBlock) {
    const int64_t m = std::min(kConvertBlock, n - i);
    if (sa != 0) {
      to_float(a + i, fa, m);
    } else {
      fa[0] = to_float(a[0]);
    }
    if (sb != 0) {
      to_float(b + i, fb, m);
    } else {
      fb[0] = to_float(b[0]);
    }
    if (compare) {
      f32_run(fa, sa, fb, sb, static_cast<uint8_t*>(out) + i, m);
    } else {
      f32_run(fa, sa, fb, sb, fo, m);
      from_float(fo, static_cast<H*>(out) + i, m);
    }
  }
}

kiln_status* binary_kernel(Kernel& k, const void* user_data) {
  const BinaryOp op = *static_cast<const BinaryOp*>(user_data);
  if ((op == BinaryOp::kMax || op == BinaryOp::kMin) && k.num_inputs() == 1) {
    return run_reduction(k, op == BinaryOp::kMax ? ReduceOp::kMax : ReduceOp::kMin);
  }
  if (k.num_inputs() != 2) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "expects 2 inputs, got %d", k.num_inputs());
  }
  Tensor a, b, out;
  KILN_CPU_TRY(k.input(0, &a));
  KILN_CPU_TRY(k.input(1, &b));
  KILN_CPU_TRY(k.output(0, &out));
  if (a.dtype != b.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "operands have dtypes %s and %s",
                   dtype_name(a.dtype), dtype_name(b.dtype));
  }
  const bool compare = is_comparison(op);
  const int32_t want = compare ? KILN_DTYPE_BOOL : a.dtype;
  if (out.dtype != want) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output dtype is %s, expected %s",
                   dtype_name(out.dtype), dtype_name(want));
  }
  const BinaryRunFn run = select_binary_run(op, a.dtype);
  if (run == nullptr) {
    return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(a.dtype));
  }
  BroadcastPlan plan;
  std::string why;
  const Tensor* inputs[2] = {&a, &b};
  if (!make_broadcast_plan(out, inputs, 2, &plan, &why)) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "%s", why.c_str());
  }
  if (out.num_elements == 0) return nullptr;
  const size_t in_size = a.element_size();
  const size_t out_size = out.element_size();
  const int32_t dtype = a.dtype;
  const int64_t grain = op == BinaryOp::kPow || op == BinaryOp::kMod ? kMathGrain : kCheapGrain;
  const char* pa0 = static_cast<const char*>(a.data);
  const char* pb0 = static_cast<const char*>(b.data);
  char* po0 = static_cast<char*>(out.data);
  parallel_for(plan.total, grain, k.num_threads(), [&](int64_t begin, int64_t end) {
    for_each_run(plan, begin, end,
                 [&](int64_t pos, const int64_t* off, const int64_t* stride, int64_t n) {
                   const char* pa = pa0 + off[0] * static_cast<int64_t>(in_size);
                   const char* pb = pb0 + off[1] * static_cast<int64_t>(in_size);
                   char* po = po0 + pos * static_cast<int64_t>(out_size);
                   if (dtype == KILN_DTYPE_FLOAT16) {
                     half_binary_run(run, compare, reinterpret_cast<const f16*>(pa), stride[0],
                                     reinterpret_cast<const f16*>(pb), stride[1], po, n);
                   } else if (dtype == KILN_DTYPE_BFLOAT16) {
                     half_binary_run(run, compare, reinterpret_cast<const bf16*>(pa), stride[0],
                                     reinterpret_cast<const bf16*>(pb), stride[1], po, n);
                   } else {
                     run(pa, stride[0], pb, stride[1], po, n);
                   }
                 });
  });
  return nullptr;
}

// ---- Unary ops --------------------------------------------------------------------------------

bool is_cheap(UnaryOp op) {
  return op == UnaryOp::kNegate || op == UnaryOp::kAbs || op == UnaryOp::kRelu ||
         op == UnaryOp::kSqrt || op == UnaryOp::kRsqrt;
}

bool is_integer_friendly(UnaryOp op) {
  return op == UnaryOp::kNegate || op == UnaryOp::kAbs || op == UnaryOp::kRelu;
}

void unary_f64(UnaryOp op, const double* x, double* y, int64_t n) {
  constexpr double kSqrt2OverPi = 0.79788456080286535588;
  constexpr double kInvSqrt2 = 0.70710678118654752440;
  switch (op) {
    case UnaryOp::kNegate:
      for (int64_t i = 0; i < n; ++i) y[i] = -x[i];
      return;
    case UnaryOp::kAbs:
      for (int64_t i = 0; i < n; ++i) y[i] = std::fabs(x[i]);
      return;
    case UnaryOp::kRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0 ? 0.0 : x[i];
      return;
    case UnaryOp::kExp:
      for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
      return;
    case UnaryOp::kLog:
      for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
      return;
    case UnaryOp::kSqrt:
      for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
      return;
    case UnaryOp::kRsqrt:
      for (int64_t i = 0; i < n; ++i) y[i] = 1.0 / std::sqrt(x[i]);
      return;
    case UnaryOp::kSigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = 1.0 / (1.0 + std::exp(-x[i]));
      return;
    case UnaryOp::kTanh:
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      return;
    // The three below tend to -0 as x -> -inf; x = -inf itself is special-cased (inf / inf).
    case UnaryOp::kSilu:
      for (int64_t i = 0; i < n; ++i) {
        y[i] = x[i] == -HUGE_VAL ? -0.0 : x[i] / (1.0 + std::exp(-x[i]));
      }
      return;
    case UnaryOp::kGelu:
      for (int64_t i = 0; i < n; ++i) {
        y[i] = x[i] == -HUGE_VAL ? -0.0 : 0.5 * x[i] * std::erfc(-x[i] * kInvSqrt2);
      }
      return;
    case UnaryOp::kGeluTanh:
      for (int64_t i = 0; i < n; ++i) {
        const double u = kSqrt2OverPi * (x[i] + 0.044715 * x[i] * x[i] * x[i]);
        y[i] = x[i] == -HUGE_VAL ? -0.0 : x[i] / (1.0 + std::exp(-2.0 * u));
      }
      return;
    case UnaryOp::kCount:
      return;
  }
}

// Unsigned types: abs and relu are the identity, negate wraps.
template <class T>
void unary_int(UnaryOp op, const T* x, T* y, int64_t n) {
  switch (op) {
    case UnaryOp::kNegate:
      for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(Unsigned<T>(0) - Unsigned<T>(x[i]));
      return;
    case UnaryOp::kAbs:
      if constexpr (std::is_signed_v<T>) {
        for (int64_t i = 0; i < n; ++i) {
          y[i] = x[i] < 0 ? static_cast<T>(Unsigned<T>(0) - Unsigned<T>(x[i])) : x[i];
        }
      } else {
        for (int64_t i = 0; i < n; ++i) y[i] = x[i];
      }
      return;
    case UnaryOp::kRelu:
      if constexpr (std::is_signed_v<T>) {
        for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0 ? T(0) : x[i];
      } else {
        for (int64_t i = 0; i < n; ++i) y[i] = x[i];
      }
      return;
    default:
      return;
  }
}

template <class T>
void unary_int_all(UnaryOp op, const Tensor& x, Tensor& y, int threads) {
  const T* in = x.as<T>();
  T* out = y.as<T>();
  parallel_for(x.num_elements, kCheapGrain, threads,
               [&](int64_t b, int64_t e) { unary_int(op, in + b, out + b, e - b); });
}

template <class H>
void unary_half(UnaryOp op, const H* x, H* y, int64_t n) {
  float buffer[kConvertBlock];
  for (int64_t i = 0; i < n; i += kConvertBlock) {
    const int64_t m = std::min(kConvertBlock, n - i);
    to_float(x + i, buffer, m);
    vec().unary_f32(op, buffer, buffer, m);
    from_float(buffer, y + i, m);
  }
}

kiln_status* unary_kernel(Kernel& k, const void* user_data) {
  UnaryOp op = *static_cast<const UnaryOp*>(user_data);
  if (op == UnaryOp::kGelu) {
    std::string mode;
    KILN_CPU_TRY(k.attr_string("approximate", "none", &mode));
    if (mode == "tanh") {
      op = UnaryOp::kGeluTanh;
    } else if (mode != "none") {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "attribute 'approximate' is '%s'; it must be 'none' or 'tanh'", mode.c_str());
    }
  }
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  KILN_CPU_TRY(k.check_output_like_input(x, y));
  const int64_t n = x.num_elements;
  const int64_t grain = is_cheap(op) ? kCheapGrain : kMathGrain;
  const int threads = k.num_threads();
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32: {
      const float* in = x.as<float>();
      float* out = y.as<float>();
      parallel_for(n, grain, threads,
                   [&](int64_t b, int64_t e) { vec().unary_f32(op, in + b, out + b, e - b); });
      return nullptr;
    }
    case KILN_DTYPE_FLOAT16: {
      const f16* in = x.as<f16>();
      f16* out = y.as<f16>();
      parallel_for(n, grain, threads,
                   [&](int64_t b, int64_t e) { unary_half(op, in + b, out + b, e - b); });
      return nullptr;
    }
    case KILN_DTYPE_BFLOAT16: {
      const bf16* in = x.as<bf16>();
      bf16* out = y.as<bf16>();
      parallel_for(n, grain, threads,
                   [&](int64_t b, int64_t e) { unary_half(op, in + b, out + b, e - b); });
      return nullptr;
    }
    case KILN_DTYPE_FLOAT64: {
      const double* in = x.as<double>();
      double* out = y.as<double>();
      parallel_for(n, grain, threads,
                   [&](int64_t b, int64_t e) { unary_f64(op, in + b, out + b, e - b); });
      return nullptr;
    }
    default:
      break;
  }
  if (is_integer_friendly(op) &&
      visit_integer(x.dtype, [&](auto t) { unary_int_all<decltype(t)>(op, x, y, threads); })) {
    return nullptr;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

// ---- Further unary math (libm, scalar loops) ---------------------------------------------------

// Ops outside the vectorized table: computed with libm in float (float32 and the halves) or
// double. floor/round/trunc are the identity on integers; round halves to even, as numpy.
enum class MathOp { kAtanh, kCos, kSin, kErf, kFloor, kRound, kTrunc, kLog1p };

template <class T>
T math_scalar(MathOp op, T v) {
  switch (op) {
    case MathOp::kAtanh:
      return std::atanh(v);
    case MathOp::kCos:
      return std::cos(v);
    case MathOp::kSin:
      return std::sin(v);
    case MathOp::kErf:
      return std::erf(v);
    case MathOp::kFloor:
      return std::floor(v);
    case MathOp::kRound:
      return std::nearbyint(v);  // the default rounding mode: to nearest, ties to even
    case MathOp::kTrunc:
      return std::trunc(v);
    case MathOp::kLog1p:
      return std::log1p(v);
  }
  return v;
}

template <class T>
void math_loop(MathOp op, const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = math_scalar(op, x[i]);
}

template <class H>
void math_half(MathOp op, const H* x, H* y, int64_t n) {
  float buffer[kConvertBlock];
  for (int64_t i = 0; i < n; i += kConvertBlock) {
    const int64_t m = std::min(kConvertBlock, n - i);
    to_float(x + i, buffer, m);
    math_loop(op, buffer, buffer, m);
    from_float(buffer, y + i, m);
  }
}

bool is_rounding(MathOp op) {
  return op == MathOp::kFloor || op == MathOp::kRound || op == MathOp::kTrunc;
}

kiln_status* run_math(Kernel& k, MathOp op, const Tensor& x, Tensor& y) {
  const int64_t n = x.num_elements;
  const int threads = k.num_threads();
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32: {
      const float* in = x.as<float>();
      float* out = y.as<float>();
      parallel_for(n, kMathGrain, threads,
                   [&](int64_t b, int64_t e) { math_loop(op, in + b, out + b, e - b); });
      return nullptr;
    }
    case KILN_DTYPE_FLOAT64: {
      const double* in = x.as<double>();
      double* out = y.as<double>();
      parallel_for(n, kMathGrain, threads,
                   [&](int64_t b, int64_t e) { math_loop(op, in + b, out + b, e - b); });
      return nullptr;
    }
    case KILN_DTYPE_FLOAT16: {
      const f16* in = x.as<f16>();
      f16* out = y.as<f16>();
      parallel_for(n, kMathGrain, threads,
                   [&](int64_t b, int64_t e) { math_half(op, in + b, out + b, e - b); });
      return nullptr;
    }
    case KILN_DTYPE_BFLOAT16: {
      const bf16* in = x.as<bf16>();
      bf16* out = y.as<bf16>();
      parallel_for(n, kMathGrain, threads,
                   [&](int64_t b, int64_t e) { math_half(op, in + b, out + b, e - b); });
      return nullptr;
    }
    default:
      break;
  }
  const bool integral = x.dtype >= KILN_DTYPE_UINT8 && x.dtype <= KILN_DTYPE_INT64;
  if (is_rounding(op) && integral) {
    const char* src = static_cast<const char*>(x.data);
    char* dst = static_cast<char*>(y.data);
    if (src != dst) std::memcpy(dst, src, x.byte_size());
    return nullptr;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

kiln_status* math_kernel(Kernel& k, const void* user_data) {
  const MathOp op = *static_cast<const MathOp*>(user_data);
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  KILN_CPU_TRY(k.check_output_like_input(x, y));
  return run_math(k, op, x, y);
}

// ---- Predicates and logical_not: bool results -------------------------------------------------

enum class PredicateOp { kIsInf, kIsNan, kLogicalNot };

template <class T>
void predicate_loop(PredicateOp op, const T* x, uint8_t* y, int64_t n) {
  if constexpr (is_half_type<T>::value) {
    float buffer[kConvertBlock];
    for (int64_t i = 0; i < n; i += kConvertBlock) {
      const int64_t m = std::min(kConvertBlock, n - i);
      to_float(x + i, buffer, m);
      predicate_loop(op, buffer, y + i, m);
    }
  } else if (op == PredicateOp::kIsInf) {
    for (int64_t i = 0; i < n; ++i) y[i] = std::isinf(x[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = std::isnan(x[i]);
  }
}

kiln_status* predicate_kernel(Kernel& k, const void* user_data) {
  const PredicateOp op = *static_cast<const PredicateOp*>(user_data);
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  if (y.dtype != KILN_DTYPE_BOOL || x.num_elements != y.num_elements) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "output %s %s does not match bool %s",
                   dtype_name(y.dtype), shape_string(y).c_str(), shape_string(x).c_str());
  }
  const int64_t n = x.num_elements;
  uint8_t* out = y.as<uint8_t>();
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.as<T>();
    parallel_for(n, kCheapGrain, k.num_threads(),
                 [&](int64_t b, int64_t e) { predicate_loop(op, in + b, out + b, e - b); });
  };
  if (op == PredicateOp::kLogicalNot) {
    if (x.dtype != KILN_DTYPE_BOOL) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT, "input has dtype %s; logical_not needs bool",
                     dtype_name(x.dtype));
    }
    const uint8_t* in = x.as<uint8_t>();
    parallel_for(n, kCheapGrain, k.num_threads(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = in[i] == 0;
    });
    return nullptr;
  }
  switch (x.dtype) {
    case KILN_DTYPE_FLOAT32:
      run(float{});
      return nullptr;
    case KILN_DTYPE_FLOAT64:
      run(double{});
      return nullptr;
    case KILN_DTYPE_FLOAT16:
      run(f16{});
      return nullptr;
    case KILN_DTYPE_BFLOAT16:
      run(bf16{});
      return nullptr;
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(x.dtype));
}

// ---- where ------------------------------------------------------------------------------------

template <class T>
void where_run(const uint8_t* c, int64_t sc, const T* x, int64_t sx, const T* y, int64_t sy, T* out,
               int64_t n) {
  if (sc != 0 && sx != 0 && sy != 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = c[i] ? x[i] : y[i];
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = c[i * sc] ? x[i * sx] : y[i * sy];
  }
}

template <class T>
void where_all(const BroadcastPlan& plan, const Tensor& c, const Tensor& x, const Tensor& y,
               Tensor& out, int threads) {
  const uint8_t* pc = c.as<uint8_t>();
  const T* px = x.as<T>();
  const T* py = y.as<T>();
  T* po = out.as<T>();
  parallel_for(plan.total, kCheapGrain, threads, [&](int64_t begin, int64_t end) {
    for_each_run(plan, begin, end,
                 [&](int64_t pos, const int64_t* off, const int64_t* s, int64_t n) {
                   where_run(pc + off[0], s[0], px + off[1], s[1], py + off[2], s[2], po + pos, n);
                 });
  });
}

kiln_status* where_kernel(Kernel& k, const void*) {
  Tensor c, x, y, out;
  KILN_CPU_TRY(k.input(0, &c));
  KILN_CPU_TRY(k.input(1, &x));
  KILN_CPU_TRY(k.input(2, &y));
  KILN_CPU_TRY(k.output(0, &out));
  if (c.dtype != KILN_DTYPE_BOOL) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "condition has dtype %s, expected bool",
                   dtype_name(c.dtype));
  }
  if (x.dtype != y.dtype || out.dtype != x.dtype) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "x, y and output dtypes differ (%s, %s, %s)",
                   dtype_name(x.dtype), dtype_name(y.dtype), dtype_name(out.dtype));
  }
  BroadcastPlan plan;
  std::string why;
  const Tensor* inputs[3] = {&c, &x, &y};
  if (!make_broadcast_plan(out, inputs, 3, &plan, &why)) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "%s", why.c_str());
  }
  if (out.num_elements == 0) return nullptr;
  const int threads = k.num_threads();
  switch (out.element_size()) {
    case 1:
      where_all<uint8_t>(plan, c, x, y, out, threads);
      return nullptr;
    case 2:
      where_all<uint16_t>(plan, c, x, y, out, threads);
      return nullptr;
    case 4:
      where_all<uint32_t>(plan, c, x, y, out, threads);
      return nullptr;
    case 8:
      where_all<uint64_t>(plan, c, x, y, out, threads);
      return nullptr;
    default:
      break;
  }
  return k.error(KILN_STATUS_UNIMPLEMENTED, "no CPU kernel for dtype %s", dtype_name(out.dtype));
}

// ---- Registration -----------------------------------------------------------------------------

struct BinaryEntry {
  const char* op;
  BinaryOp kind;
};
constexpr BinaryEntry kBinaryOps[] = {
    {"add", BinaryOp::kAdd},         {"sub", BinaryOp::kSub},
    {"mul", BinaryOp::kMul},         {"div", BinaryOp::kDiv},
    {"pow", BinaryOp::kPow},         {"mod", BinaryOp::kMod},
    {"max", BinaryOp::kMax},         {"min", BinaryOp::kMin},
    {"greater", BinaryOp::kGreater}, {"greater_equal", BinaryOp::kGreaterEqual},
};
constexpr BinaryEntry kEqualityOps[] = {
    {"equal", BinaryOp::kEqual},
    {"not_equal", BinaryOp::kNotEqual},
};
constexpr BinaryEntry kLogicalOps[] = {
    {"logical_and", BinaryOp::kLogicalAnd},
    {"logical_or", BinaryOp::kLogicalOr},
    {"logical_xor", BinaryOp::kLogicalXor},
};

struct UnaryEntry {
  const char* op;
  UnaryOp kind;
};
constexpr UnaryEntry kUnaryOps[] = {
    {"negate", UnaryOp::kNegate}, {"abs", UnaryOp::kAbs},         {"relu", UnaryOp::kRelu},
    {"exp", UnaryOp::kExp},       {"log", UnaryOp::kLog},         {"sqrt", UnaryOp::kSqrt},
    {"rsqrt", UnaryOp::kRsqrt},   {"sigmoid", UnaryOp::kSigmoid}, {"tanh", UnaryOp::kTanh},
    {"silu", UnaryOp::kSilu},     {"gelu", UnaryOp::kGelu},
};

// ---- kiln.fused_elementwise: a chain of float32 steps, block by block in cache -----------------

struct ChainStep {
  bool unary = true;
  UnaryOp op = UnaryOp::kNegate;
  char binary = 0;        // '+', '-', '*', '/'
  bool reversed = false;  // the operand is the left one
  int input = 0;
};

// Parses the graph pass's `steps` (core/src/passes/elementwise_chain.cpp; the schema has checked
// it, so a failure here means a graph the schema would refuse).
kiln_status* parse_chain(const Kernel& k, const std::string& text, std::vector<ChainStep>* out) {
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string step = text.substr(start, comma - start);
    start = comma + 1;
    ChainStep s;
    const size_t colon = step.find(':');
    if (colon == std::string::npos) {
      bool found = step == "gelu_tanh";
      s.op = UnaryOp::kGeluTanh;
      for (const UnaryEntry& e : kUnaryOps) {
        if (!found && step == e.op) {
          s.op = e.kind;
          found = true;
        }
      }
      if (!found) return k.error(KILN_STATUS_INVALID_ARGUMENT, "unknown step '%s'", step.c_str());
    } else {
      std::string op = step.substr(0, colon);
      s.unary = false;
      s.reversed = !op.empty() && op[0] == 'r';
      if (s.reversed) op = op.substr(1);
      s.binary = op == "add" ? '+' : op == "sub" ? '-' : op == "mul" ? '*' : op == "div" ? '/' : 0;
      s.input = std::atoi(step.c_str() + colon + 1);
      if (s.binary == 0 || s.input < 1 || s.input >= k.num_inputs()) {
        return k.error(KILN_STATUS_INVALID_ARGUMENT, "bad step '%s'", step.c_str());
      }
    }
    out->push_back(s);
  }
  return nullptr;
}

template <char Op>
void chain_binary(float* v, const float* o, int64_t o_step, bool reversed, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float a = reversed ? o[i * o_step] : v[i];
    const float b = reversed ? v[i] : o[i * o_step];
    v[i] = Op == '+' ? a + b : Op == '-' ? a - b : Op == '*' ? a * b : a / b;
  }
}

kiln_status* fused_elementwise_kernel(Kernel& k, const void*) {
  std::string text;
  KILN_CPU_TRY(k.attr_string("steps", "", &text));
  std::vector<ChainStep> steps;
  KILN_CPU_TRY(parse_chain(k, text, &steps));
  Tensor x, y;
  KILN_CPU_TRY(k.input(0, &x));
  KILN_CPU_TRY(k.output(0, &y));
  KILN_CPU_TRY(k.check_output_like_input(x, y));
  if (x.dtype != KILN_DTYPE_FLOAT32) {
    return k.error(KILN_STATUS_INVALID_ARGUMENT, "needs float32, got %s", dtype_name(x.dtype));
  }
  std::vector<Tensor> operands(static_cast<size_t>(k.num_inputs()));
  for (int i = 1; i < k.num_inputs(); ++i) {
    Tensor& t = operands[static_cast<size_t>(i)];
    KILN_CPU_TRY(k.input(i, &t));
    if (t.dtype != KILN_DTYPE_FLOAT32 || (t.rank != 0 && t.num_elements != x.num_elements)) {
      return k.error(KILN_STATUS_INVALID_ARGUMENT,
                     "input %d must be float32, a scalar or of the shape of input 0", i);
    }
  }
  const float* in = x.as<float>();
  float* out = y.as<float>();
  parallel_for(x.num_elements, kMathGrain, k.num_threads(), [&](int64_t b, int64_t e) {
    constexpr int64_t kBlock = 1024;
    float block[kBlock];
    for (int64_t i = b; i < e; i += kBlock) {
      const int64_t m = std::min(kBlock, e - i);
      std::copy(in + i, in + i + m, block);
      for (const ChainStep& s : steps) {
        if (s.unary) {
          vec().unary_f32(s.op, block, block, m);
          continue;
        }
        const Tensor& t = operands[static_cast<size_t>(s.input)];
        const bool scalar = t.rank == 0;
        const float* o = t.as<float>() + (scalar ? 0 : i);
        const int64_t o_step = scalar ? 0 : 1;
        switch (s.binary) {
          case '+': chain_binary<'+'>(block, o, o_step, s.reversed, m); break;
          case '-': chain_binary<'-'>(block, o, o_step, s.reversed, m); break;
          case '*': chain_binary<'*'>(block, o, o_step, s.reversed, m); break;
          default: chain_binary<'/'>(block, o, o_step, s.reversed, m); break;
        }
      }
      std::copy(block, block + m, out + i);
    }
  });
  return nullptr;
}

struct MathEntry {
  const char* op;
  MathOp kind;
};
constexpr MathEntry kMathOps[] = {
    {"atanh", MathOp::kAtanh}, {"cos", MathOp::kCos},     {"sin", MathOp::kSin},
    {"erf", MathOp::kErf},     {"floor", MathOp::kFloor}, {"round", MathOp::kRound},
    {"trunc", MathOp::kTrunc}, {"log1p", MathOp::kLog1p},
};

constexpr PredicateOp kIsInf = PredicateOp::kIsInf;
constexpr PredicateOp kIsNan = PredicateOp::kIsNan;
constexpr PredicateOp kLogicalNot = PredicateOp::kLogicalNot;

}  // namespace

kiln_status* register_elementwise_kernels(kiln_registrar* registrar) {
  for (const BinaryEntry& e : kBinaryOps) {
    KILN_CPU_TRY(
        register_kernel(registrar, e.op, kNumericTypes, 0, kernel_entry<binary_kernel>, &e.kind));
  }
  for (const BinaryEntry& e : kEqualityOps) {
    KILN_CPU_TRY(register_kernel(registrar, e.op, kNumericOrBoolTypes, 0,
                                 kernel_entry<binary_kernel>, &e.kind));
  }
  for (const BinaryEntry& e : kLogicalOps) {
    KILN_CPU_TRY(register_kernel(registrar, e.op, {KILN_DTYPE_BOOL}, 0, kernel_entry<binary_kernel>,
                                 &e.kind));
  }
  for (const UnaryEntry& e : kUnaryOps) {
    const auto& dtypes = is_integer_friendly(e.kind) ? kNumericTypes : kFloatTypes;
    KILN_CPU_TRY(register_kernel(registrar, e.op, dtypes, 0, kernel_entry<unary_kernel>, &e.kind));
  }
  KILN_CPU_TRY(register_kernel(registrar, "kiln.fused_elementwise", {KILN_DTYPE_FLOAT32}, 0,
                               kernel_entry<fused_elementwise_kernel>, nullptr));
  for (const MathEntry& e : kMathOps) {
    const auto& dtypes = is_rounding(e.kind) ? kNumericTypes : kFloatTypes;
    KILN_CPU_TRY(register_kernel(registrar, e.op, dtypes, 0, kernel_entry<math_kernel>, &e.kind));
  }
  KILN_CPU_TRY(register_kernel(registrar, "is_inf", kFloatTypes, 0, kernel_entry<predicate_kernel>,
                               &kIsInf));
  KILN_CPU_TRY(register_kernel(registrar, "is_nan", kFloatTypes, 0, kernel_entry<predicate_kernel>,
                               &kIsNan));
  KILN_CPU_TRY(register_kernel(registrar, "logical_not", {KILN_DTYPE_BOOL}, 0,
                               kernel_entry<predicate_kernel>, &kLogicalNot));
  // Selected by x's dtype (input 1), not by the bool condition; any dtype (moves elements only).
  return register_kernel(registrar, "where", {}, 1, kernel_entry<where_kernel>, nullptr);
}

}  // namespace kiln_cpu
