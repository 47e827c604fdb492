// math.cu: elementwise math and logic beyond elementwise.cu (sin cos erf atanh log1p floor round
// trunc, is_nan is_inf logical_not; mod not_equal greater_equal logical_and/or/xor with numpy
// broadcasting), cumsum and logsoftmax along one axis.
//
// Semantics follow the CPU plugin: float16/bfloat16 compute in float32 and round once; round
// halves to even; floor/round/trunc are the identity on integers; mod takes the divisor's sign
// (x mod 0 is 0 for integers, NaN for floats; a zero remainder has the divisor's sign); bool
// operands count any nonzero byte as true. cumsum accumulates floats in double and integers in
// wrapping 64-bit arithmetic; logsoftmax subtracts the max and sums the exponentials in double.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#include "dtype.cuh"
#include "elementwise.cuh"
#include "kernel_call.h"
#include "kernels.h"

namespace kiln::gpu {
namespace {

constexpr int kThreads = 256;

enum MathCode : int32_t {
  kSin,
  kCos,
  kErf,
  kAtanh,
  kLog1p,
  kFloor,
  kRound,
  kTrunc,
  kIsNan,
  kIsInf,
  kLogicalNot
};
enum LogicCode : int32_t { kMod, kNotEqual, kGreaterEqual, kLogicalAnd, kLogicalOr, kLogicalXor };

bool is_rounding(int32_t code) { return code == kFloor || code == kRound || code == kTrunc; }

// ---- Unary math and predicates ----------------------------------------------------------------

__device__ inline float math_float(int32_t code, float x) {
  switch (code) {
    case kSin:
      return sinf(x);
    case kCos:
      return cosf(x);
    case kErf:
      return erff(x);
    case kAtanh:
      return atanhf(x);
    case kLog1p:
      return log1pf(x);
    case kFloor:
      return floorf(x);
    case kRound:
      return rintf(x);  // the default rounding mode: to nearest, ties to even
    case kTrunc:
      return truncf(x);
    default:
      return x;
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    math_kernel(const T* x, T* out, int64_t n, int32_t code) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    if constexpr (is_integer_type<T>::value) {
      out[i] = x[i];  // floor, round and trunc of an integer
    } else {
      out[i] = from_float<T>(math_float(code, to_float(x[i])));
    }
  }
}

// is_nan / is_inf of a float type, or logical_not of bool bytes (T = uint8_t).
template <typename T>
__global__ void __launch_bounds__(kThreads)
    predicate_kernel(const T* x, uint8_t* out, int64_t n, int32_t code) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    if constexpr (std::is_same_v<T, uint8_t>) {
      out[i] = x[i] == 0;
    } else {
      const float v = to_float(x[i]);
      out[i] = code == kIsNan ? v != v : fabsf(v) == INFINITY;
    }
  }
}

kiln_status* no_kernel(const Call& call, int32_t dtype) {
  return call.error(KILN_STATUS_UNIMPLEMENTED,
                    std::string("no GPU kernel for dtype ") + dtype_name(dtype));
}

kiln_status* mismatch(const Call& call, const Operand& x, const Operand& out) {
  return call.error(KILN_STATUS_INVALID_ARGUMENT,
                    "output " + shape_string(out) + " " + dtype_name(out.dtype) +
                        " does not match the input " + shape_string(x) + " " + dtype_name(x.dtype));
}

kiln_status* math_body(Call& call, const void* user_data) {
  const int32_t code = static_cast<const KernelInfo*>(user_data)->code;
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  if (x.dtype != out.dtype || x.num_elements != out.num_elements) {
    return mismatch(call, x, out);
  }
  const bool integer = x.dtype == KILN_DTYPE_INT32 || x.dtype == KILN_DTYPE_INT64;
  if (integer && !is_rounding(code)) return no_kernel(call, x.dtype);
  if (x.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const int64_t n = x.num_elements;
  const unsigned blocks = grid_for(n, kThreads, call.multiprocessors());
  const bool known = dispatch_arithmetic(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    math_kernel<T><<<blocks, kThreads, 0, call.stream()>>>(static_cast<const T*>(x.data),
                                                           static_cast<T*>(out.data), n, code);
  });
  if (!known) return no_kernel(call, x.dtype);
  return call.launched("math kernel");
}

kiln_status* predicate_body(Call& call, const void* user_data) {
  const int32_t code = static_cast<const KernelInfo*>(user_data)->code;
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  if (out.dtype != KILN_DTYPE_BOOL || x.num_elements != out.num_elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "output " + shape_string(out) + " " +
                                                        dtype_name(out.dtype) +
                                                        " does not match bool " + shape_string(x));
  }
  const bool logical = code == kLogicalNot;
  if (logical != (x.dtype == KILN_DTYPE_BOOL)) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("input has dtype ") + dtype_name(x.dtype) +
                          (logical ? "; logical_not needs bool" : "; expected a float dtype"));
  }
  if (x.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const int64_t n = x.num_elements;
  const unsigned blocks = grid_for(n, kThreads, call.multiprocessors());
  auto* o = static_cast<uint8_t*>(out.data);
  if (logical) {
    predicate_kernel<uint8_t>
        <<<blocks, kThreads, 0, call.stream()>>>(static_cast<const uint8_t*>(x.data), o, n, code);
    return call.launched("predicate kernel");
  }
  const bool known = dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    predicate_kernel<T>
        <<<blocks, kThreads, 0, call.stream()>>>(static_cast<const T*>(x.data), o, n, code);
  });
  if (!known) return no_kernel(call, x.dtype);
  return call.launched("predicate kernel");
}

// ---- Binary ops (numpy broadcasting) ----------------------------------------------------------

struct ModOp {
  template <typename T>
  __device__ static T apply(int32_t, T a, T b) {
    if constexpr (is_integer_type<T>::value) {
      if (b == 0 || b == -1) return 0;  // x mod 0 is 0; INT_MIN % -1 would trap
      const T r = static_cast<T>(a % b);
      return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<T>(r + b) : r;
    } else {
      const float y = to_float(b);
      float r = fmodf(to_float(a), y);
      if (r != 0.0f && ((r < 0.0f) != (y < 0.0f))) r += y;
      if (r == 0.0f) r = copysignf(0.0f, y);  // a zero remainder takes the divisor's sign
      return from_float<T>(r);
    }
  }
};

struct CompareOp {
  template <typename T>
  __device__ static uint8_t apply(int32_t code, T a, T b) {
    if constexpr (is_integer_type<T>::value) {
      return code == kNotEqual ? a != b : a >= b;
    } else {
      const float x = to_float(a);
      const float y = to_float(b);
      return code == kNotEqual ? x != y : x >= y;
    }
  }
};

// Bool operands (bytes): any nonzero byte is true.
struct LogicOp {
  __device__ static uint8_t apply(int32_t code, uint8_t a, uint8_t b) {
    const bool x = a != 0;
    const bool y = b != 0;
    switch (code) {
      case kLogicalAnd:
        return x && y;
      case kLogicalOr:
        return x || y;
      default:
        return x != y;  // not_equal, logical_xor
    }
  }
};

template <typename Op, typename T, typename R>
__global__ void __launch_bounds__(kThreads)
    binary_kernel(const T* a, const T* b, R* out, int64_t n, int32_t code, bool same, Strided sa,
                  Strided sb) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] = same ? Op::apply(code, a[i], b[i]) : Op::apply(code, a[sa.at(i)], b[sb.at(i)]);
  }
}

kiln_status* binary_body(Call& call, const void* user_data) {
  const int32_t code = static_cast<const KernelInfo*>(user_data)->code;
  if (call.num_inputs() != 2) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "expects 2 inputs, got " + std::to_string(call.num_inputs()));
  }
  Operand a, b, out;
  KILN_GPU_CALL_TRY(call.input(0, &a));
  KILN_GPU_CALL_TRY(call.input(1, &b));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  if (a.dtype != b.dtype) {
    return call.error(
        KILN_STATUS_INVALID_ARGUMENT,
        std::string("operands have dtypes ") + dtype_name(a.dtype) + " and " + dtype_name(b.dtype));
  }
  const int32_t want = code == kMod ? a.dtype : KILN_DTYPE_BOOL;
  if (out.dtype != want) {
    return call.error(
        KILN_STATUS_INVALID_ARGUMENT,
        std::string("output dtype ") + dtype_name(out.dtype) + ", expected " + dtype_name(want));
  }
  const bool logical = code == kLogicalAnd || code == kLogicalOr || code == kLogicalXor;
  const bool boolean = a.dtype == KILN_DTYPE_BOOL;
  if ((logical && !boolean) || (boolean && code != kNotEqual && !logical)) {
    return no_kernel(call, a.dtype);
  }
  Strided sa, sb;
  KILN_GPU_CALL_TRY(broadcast_view(call, a, out, "input 0", &sa));
  KILN_GPU_CALL_TRY(broadcast_view(call, b, out, "input 1", &sb));
  if (out.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const bool same = same_shape(a, out) && same_shape(b, out);
  const int64_t n = out.num_elements;
  const unsigned blocks = grid_for(n, kThreads, call.multiprocessors());
  if (boolean) {
    binary_kernel<LogicOp, uint8_t, uint8_t><<<blocks, kThreads, 0, call.stream()>>>(
        static_cast<const uint8_t*>(a.data), static_cast<const uint8_t*>(b.data),
        static_cast<uint8_t*>(out.data), n, code, same, sa, sb);
    return call.launched("logical kernel");
  }
  const bool known = dispatch_arithmetic(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto* pa = static_cast<const T*>(a.data);
    const auto* pb = static_cast<const T*>(b.data);
    if (code == kMod) {
      binary_kernel<ModOp, T, T><<<blocks, kThreads, 0, call.stream()>>>(
          pa, pb, static_cast<T*>(out.data), n, code, same, sa, sb);
    } else {
      binary_kernel<CompareOp, T, uint8_t><<<blocks, kThreads, 0, call.stream()>>>(
          pa, pb, static_cast<uint8_t*>(out.data), n, code, same, sa, sb);
    }
  });
  if (!known) return no_kernel(call, a.dtype);
  return call.launched("binary math kernel");
}

// ---- Shared by the axis kernels -----------------------------------------------------------------

struct Layout {
  int64_t outer = 1;
  int64_t length = 1;
  int64_t inner = 1;
};

Layout layout_of(const Operand& x, int axis) {
  Layout l;
  for (int d = 0; d < axis; ++d) l.outer *= x.shape[d];
  l.length = x.shape[axis];
  for (int d = axis + 1; d < x.rank; ++d) l.inner *= x.shape[d];
  return l;
}

unsigned row_blocks(int64_t rows, const Call& call) {
  return static_cast<unsigned>(
      std::max<int64_t>(1, std::min<int64_t>(rows, int64_t{call.multiprocessors()} * 32)));
}

// ---- cumsum -----------------------------------------------------------------------------------

template <typename T>
using ScanAcc = std::conditional_t<is_integer_type<T>::value, uint64_t, double>;

template <typename T>
__device__ inline ScanAcc<T> scan_load(T v) {
  if constexpr (is_integer_type<T>::value) {
    return static_cast<uint64_t>(static_cast<int64_t>(v));  // wraps like the CPU's uint64 sum
  } else {
    return static_cast<double>(to_float(v));
  }
}

template <typename T>
__device__ inline T scan_store(ScanAcc<T> v) {
  if constexpr (is_integer_type<T>::value) {
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(v));
  } else {
    return from_float<T>(static_cast<float>(v));
  }
}

// One thread per column (outer, inner), walking the axis in order (the CPU plugin's order).
template <typename T>
__global__ void __launch_bounds__(kThreads)
    cumsum_columns(const T* x, T* y, int64_t outer, int64_t length, int64_t inner, bool exclusive,
                   bool reverse) {
  const int64_t total = outer * inner;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < total;
       c += stride) {
    const int64_t base = (c / inner) * length * inner + c % inner;
    ScanAcc<T> acc = 0;
    for (int64_t step = 0; step < length; ++step) {
      const int64_t at = base + (reverse ? length - 1 - step : step) * inner;
      const ScanAcc<T> before = acc;
      acc += scan_load(x[at]);
      y[at] = scan_store<T>(exclusive ? before : acc);
    }
  }
}

// One block per contiguous row: chunks of kThreads elements scanned in shared memory
// (Hillis-Steele), each chunk adding the total of the ones before.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    cumsum_rows(const T* x, T* y, int64_t rows, int64_t length, bool exclusive, bool reverse) {
  using A = ScanAcc<T>;
  __shared__ A partial[kThreads];
  const int t = static_cast<int>(threadIdx.x);
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* in = x + row * length;
    T* out = y + row * length;
    A carry = 0;
    for (int64_t start = 0; start < length; start += kThreads) {
      const int64_t step = start + t;
      const int64_t at = reverse ? length - 1 - step : step;
      partial[t] = step < length ? scan_load(in[at]) : A(0);
      __syncthreads();
      for (int offset = 1; offset < kThreads; offset *= 2) {
        const A add = t >= offset ? partial[t - offset] : A(0);
        __syncthreads();
        partial[t] += add;
        __syncthreads();
      }
      const A inclusive = carry + partial[t];
      const A before = t > 0 ? carry + partial[t - 1] : carry;
      if (step < length) out[at] = scan_store<T>(exclusive ? before : inclusive);
      carry += partial[kThreads - 1];
      __syncthreads();  // partial is rewritten by the next chunk
    }
  }
}

kiln_status* cumsum_body(Call& call, const void*) {
  Operand x, y;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &y));
  if (x.dtype != y.dtype || !same_shape(x, y)) {
    return mismatch(call, x, y);
  }
  if (x.rank < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "cannot scan a rank-0 tensor");
  int64_t axis_attr = -1, exclusive = 0, reverse = 0;
  KILN_GPU_CALL_TRY(call.attr_int("axis", -1, &axis_attr));
  KILN_GPU_CALL_TRY(call.attr_int("exclusive", 0, &exclusive));
  KILN_GPU_CALL_TRY(call.attr_int("reverse", 0, &reverse));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  if (x.num_elements == 0) return nullptr;
  const Layout l = layout_of(x, axis);
  KILN_GPU_CALL_TRY(call.begin());
  const bool ex = exclusive != 0;
  const bool rev = reverse != 0;
  const bool known = dispatch_arithmetic(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto* in = static_cast<const T*>(x.data);
    auto* out = static_cast<T*>(y.data);
    // Short contiguous rows are cheaper one thread each than one block each.
    if (l.inner == 1 && l.length > 32) {
      cumsum_rows<T><<<row_blocks(l.outer, call), kThreads, 0, call.stream()>>>(in, out, l.outer,
                                                                                l.length, ex, rev);
    } else {
      const unsigned blocks = grid_for(l.outer * l.inner, kThreads, call.multiprocessors());
      cumsum_columns<T>
          <<<blocks, kThreads, 0, call.stream()>>>(in, out, l.outer, l.length, l.inner, ex, rev);
    }
  });
  if (!known) return no_kernel(call, x.dtype);
  return call.launched("cumsum kernel");
}

// ---- logsoftmax -------------------------------------------------------------------------------

__device__ inline float nan_max(float a, float b) { return (b > a || b != b) ? b : a; }

// The block's combined value of every thread's `v` (max with NaN, or sum), on every thread.
template <typename A, bool kMax>
__device__ A block_reduce(A v) {
  __shared__ A values[kThreads];
  values[threadIdx.x] = v;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      const A other = values[threadIdx.x + half];
      if constexpr (kMax) {
        values[threadIdx.x] = nan_max(values[threadIdx.x], other);
      } else {
        values[threadIdx.x] += other;
      }
    }
    __syncthreads();
  }
  const A result = values[0];
  __syncthreads();  // values is reused by the next call
  return result;
}

template <typename T>
__device__ inline T logsoftmax_value(T v, double shift) {
  return from_float<T>(static_cast<float>(static_cast<double>(to_float(v)) - shift));
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    logsoftmax_rows(const T* x, T* out, int64_t rows, int64_t length) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* in = x + row * length;
    T* o = out + row * length;
    float m = -INFINITY;
    for (int64_t i = threadIdx.x; i < length; i += kThreads) m = nan_max(m, to_float(in[i]));
    m = block_reduce<float, true>(m);
    double sum = 0.0;
    for (int64_t i = threadIdx.x; i < length; i += kThreads) {
      sum += ::exp(static_cast<double>(to_float(in[i])) - m);
    }
    const double shift = static_cast<double>(m) + ::log(block_reduce<double, false>(sum));
    for (int64_t i = threadIdx.x; i < length; i += kThreads) o[i] = logsoftmax_value(in[i], shift);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    logsoftmax_columns(const T* x, T* out, int64_t outer, int64_t length, int64_t inner) {
  const int64_t total = outer * inner;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < total;
       c += stride) {
    const int64_t base = (c / inner) * length * inner + c % inner;
    float m = -INFINITY;
    for (int64_t i = 0; i < length; ++i) m = nan_max(m, to_float(x[base + i * inner]));
    double sum = 0.0;
    for (int64_t i = 0; i < length; ++i) {
      sum += ::exp(static_cast<double>(to_float(x[base + i * inner])) - m);
    }
    const double shift = static_cast<double>(m) + ::log(sum);
    for (int64_t i = 0; i < length; ++i) {
      out[base + i * inner] = logsoftmax_value(x[base + i * inner], shift);
    }
  }
}

kiln_status* logsoftmax_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  if (x.dtype != out.dtype || !same_shape(x, out)) {
    return mismatch(call, x, out);
  }
  Layout l;  // a rank-0 tensor is one row of one element (as the CPU plugin)
  if (x.rank > 0) {
    int64_t axis_attr = -1;
    KILN_GPU_CALL_TRY(call.attr_int("axis", -1, &axis_attr));
    int axis = 0;
    KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
    l = layout_of(x, axis);
  }
  if (x.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const bool known = dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto* in = static_cast<const T*>(x.data);
    auto* o = static_cast<T*>(out.data);
    if (l.inner == 1 && l.length > 32) {
      logsoftmax_rows<T>
          <<<row_blocks(l.outer, call), kThreads, 0, call.stream()>>>(in, o, l.outer, l.length);
    } else {
      const unsigned blocks = grid_for(l.outer * l.inner, kThreads, call.multiprocessors());
      logsoftmax_columns<T>
          <<<blocks, kThreads, 0, call.stream()>>>(in, o, l.outer, l.length, l.inner);
    }
  });
  if (!known) return no_kernel(call, x.dtype);
  return call.launched("logsoftmax kernel");
}

// ---- Registration -----------------------------------------------------------------------------

struct Entry {
  const char* op;
  int32_t code;
};
constexpr Entry kMath[] = {{"sin", kSin},     {"cos", kCos},     {"erf", kErf},
                           {"atanh", kAtanh}, {"log1p", kLog1p}, {"floor", kFloor},
                           {"round", kRound}, {"trunc", kTrunc}};
constexpr Entry kPredicates[] = {{"is_nan", kIsNan}, {"is_inf", kIsInf}};
constexpr Entry kBinary[] = {{"mod", kMod},
                             {"not_equal", kNotEqual},
                             {"greater_equal", kGreaterEqual},
                             {"logical_and", kLogicalAnd},
                             {"logical_or", kLogicalOr},
                             {"logical_xor", kLogicalXor}};

const std::vector<int32_t>& binary_types(int32_t code) {
  static const std::vector<int32_t> bool_only = {KILN_DTYPE_BOOL};
  if (code == kNotEqual) return kGpuAllTypes;
  if (code == kMod || code == kGreaterEqual) return kGpuArithmeticTypes;
  return bool_only;
}

}  // namespace

kiln_status* register_math_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                   Backend* backend) {
  // Live for the process: the host keeps the user_data pointers (reserved: never reallocated).
  static std::vector<KernelInfo>* infos = new std::vector<KernelInfo>();
  infos->reserve(std::size(kMath) + std::size(kPredicates) + std::size(kBinary) + 2);
  for (const Entry& e : kMath) {
    infos->push_back({backend, e.code});
    KILN_GPU_CALL_TRY(register_gpu_kernel(
        host, registrar, e.op, is_rounding(e.code) ? kGpuArithmeticTypes : kGpuFloatTypes, 0,
        call_entry<math_body>, &infos->back()));
  }
  for (const Entry& e : kPredicates) {
    infos->push_back({backend, e.code});
    KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, e.op, kGpuFloatTypes, 0,
                                          call_entry<predicate_body>, &infos->back()));
  }
  infos->push_back({backend, kLogicalNot});
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "logical_not", {KILN_DTYPE_BOOL}, 0,
                                        call_entry<predicate_body>, &infos->back()));
  for (const Entry& e : kBinary) {
    infos->push_back({backend, e.code});
    KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, e.op, binary_types(e.code), 0,
                                          call_entry<binary_body>, &infos->back()));
  }
  infos->push_back({backend, 0});
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "cumsum", kGpuArithmeticTypes, 0,
                                        call_entry<cumsum_body>, &infos->back()));
  return register_gpu_kernel(host, registrar, "logsoftmax", kGpuFloatTypes, 0,
                             call_entry<logsoftmax_body>, &infos->back());
}

}  // namespace kiln::gpu
