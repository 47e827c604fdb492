// elementwise.cu: binary arithmetic and comparisons with numpy broadcasting, unary math, gelu,
// cast and where, for float32, float16, bfloat16, int32, int64 (and bool where it applies).
//
// Float16/bfloat16 compute in float32 and round once, as the CPU plugin. Integer semantics match
// the CPU plugin: wrapping add/sub/mul/negate/abs, division truncating toward zero with x / 0 = 0
// and INT_MIN / -1 = INT_MIN, pow by repeated squaring. Float max/min propagate NaN.
// Same-shape operands take a vectorized path (16 bytes per load); the rest index through strides.
#include <cmath>
#include <string>
#include <type_traits>

#include "dtype.cuh"
#include "elementwise.cuh"
#include "kernel_call.h"
#include "kernels.h"

namespace kiln::gpu {
namespace {

constexpr int kThreads = 256;

enum BinaryCode : int32_t { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kEqual, kGreater };
enum UnaryCode : int32_t {
  kNegate, kAbs, kRelu, kExp, kLog, kSqrt, kRsqrt, kSigmoid, kTanh, kSilu, kGelu, kGeluTanh
};

template <typename T>
__device__ inline T integer_binary(int32_t code, T a, T b) {
  using U = std::make_unsigned_t<T>;
  switch (code) {
    case kAdd: return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
    case kSub: return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
    case kMul: return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
    case kDiv:
      if (b == 0) return 0;
      if (b == -1) return static_cast<T>(U(0) - static_cast<U>(a));
      return a / b;
    case kPow: {
      if (b < 0) return (a == 1) ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
      U result = 1;
      U base = static_cast<U>(a);
      for (T e = b; e > 0; e >>= 1) {
        if (e & 1) result *= base;
        base *= base;
      }
      return static_cast<T>(result);
    }
    case kMax: return a > b ? a : b;
    case kMin: return a < b ? a : b;
    default: return 0;
  }
}

__device__ inline float float_binary(int32_t code, float x, float y) {
  switch (code) {
    case kAdd: return x + y;
    case kSub: return x - y;
    case kMul: return x * y;
    case kDiv: return x / y;
    case kPow: return powf(x, y);
    case kMax: return (x != x || y != y) ? x + y : fmaxf(x, y);
    case kMin: return (x != x || y != y) ? x + y : fminf(x, y);
    default: return 0.0f;
  }
}

template <typename T>
__device__ inline T apply_binary(int32_t code, T a, T b) {
  if constexpr (is_integer_type<T>::value) {
    return integer_binary(code, a, b);
  } else {
    return from_float<T>(float_binary(code, to_float(a), to_float(b)));
  }
}

template <typename T>
__device__ inline bool apply_compare(int32_t code, T a, T b) {
  if constexpr (is_integer_type<T>::value || std::is_same_v<T, bool>) {
    return code == kEqual ? a == b : a > b;
  } else {
    const float x = to_float(a);
    const float y = to_float(b);
    return code == kEqual ? x == y : x > y;
  }
}

template <typename T, typename R>
__device__ inline R apply(int32_t code, T a, T b) {
  if constexpr (std::is_same_v<R, bool>) {
    return apply_compare(code, a, b);
  } else {
    return apply_binary(code, a, b);
  }
}

// Elements of 16 bytes moved at once on the vectorized paths.
template <typename T>
struct alignas(16) Pack {
  static constexpr int kCount = 16 / sizeof(T);
  T v[kCount];
};

template <typename T, typename R>
__global__ void __launch_bounds__(kThreads)
    binary_same_shape(const T* a, const T* b, R* out, int64_t n, int32_t code, bool packed) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t done = 0;
  constexpr int V = Pack<T>::kCount;
  if (packed && sizeof(R) == sizeof(T)) {
    const int64_t packs = n / V;
    for (int64_t i = first; i < packs; i += stride) {
      const Pack<T> x = reinterpret_cast<const Pack<T>*>(a)[i];
      const Pack<T> y = reinterpret_cast<const Pack<T>*>(b)[i];
      Pack<T> r;
      for (int j = 0; j < V; ++j) {
        const R value = apply<T, R>(code, x.v[j], y.v[j]);
        memcpy(&r.v[j], &value, sizeof(T));
      }
      reinterpret_cast<Pack<T>*>(out)[i] = r;
    }
    done = packs * V;
  }
  for (int64_t i = done + first; i < n; i += stride) {
    out[i] = apply<T, R>(code, a[i], b[i]);
  }
}

template <typename T, typename R>
__global__ void __launch_bounds__(kThreads)
    binary_strided(const T* a, const T* b, R* out, int64_t n, int32_t code, Strided sa,
                   Strided sb) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] = apply<T, R>(code, a[sa.at(i)], b[sb.at(i)]);
  }
}

__device__ inline float gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
__device__ inline float gelu_tanh(float x) {
  return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

template <typename T>
__device__ inline T apply_unary(int32_t code, T v) {
  if constexpr (is_integer_type<T>::value) {
    using U = std::make_unsigned_t<T>;
    switch (code) {
      case kNegate: return static_cast<T>(U(0) - static_cast<U>(v));
      case kAbs: return v < 0 ? static_cast<T>(U(0) - static_cast<U>(v)) : v;
      case kRelu: return v > 0 ? v : 0;
      default: return 0;
    }
  } else {
    const float x = to_float(v);
    float r = 0.0f;
    switch (code) {
      case kNegate: r = -x; break;
      case kAbs: r = fabsf(x); break;
      case kRelu: r = x > 0.0f ? x : (x != x ? x : 0.0f); break;
      case kExp: r = expf(x); break;
      case kLog: r = logf(x); break;
      case kSqrt: r = sqrtf(x); break;
      case kRsqrt: r = 1.0f / sqrtf(x); break;
      case kSigmoid: r = 1.0f / (1.0f + expf(-x)); break;
      case kTanh: r = tanhf(x); break;
      case kSilu: r = x / (1.0f + expf(-x)); break;
      case kGelu: r = gelu_erf(x); break;
      case kGeluTanh: r = gelu_tanh(x); break;
    }
    return from_float<T>(r);
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    unary_kernel(const T* x, T* out, int64_t n, int32_t code, bool packed) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t done = 0;
  constexpr int V = Pack<T>::kCount;
  if (packed) {
    const int64_t packs = n / V;
    for (int64_t i = first; i < packs; i += stride) {
      Pack<T> p = reinterpret_cast<const Pack<T>*>(x)[i];
      for (int j = 0; j < V; ++j) p.v[j] = apply_unary(code, p.v[j]);
      reinterpret_cast<Pack<T>*>(out)[i] = p;
    }
    done = packs * V;
  }
  for (int64_t i = done + first; i < n; i += stride) out[i] = apply_unary(code, x[i]);
}

template <typename T, typename R>
__device__ inline R convert(T v) {
  if constexpr (std::is_same_v<T, R>) {
    return v;
  } else if constexpr (std::is_same_v<R, bool>) {
    if constexpr (is_integer_type<T>::value) {
      return v != 0;
    } else {
      return to_float(v) != 0.0f;
    }
  } else if constexpr ((is_integer_type<T>::value || std::is_same_v<T, bool>) &&
                       is_integer_type<R>::value) {
    return static_cast<R>(v);
  } else if constexpr (std::is_same_v<T, int64_t> && std::is_same_v<R, float>) {
    return static_cast<float>(v);
  } else {
    return from_float<R>(to_float(v));
  }
}

template <typename T, typename R>
__global__ void __launch_bounds__(kThreads) cast_kernel(const T* x, R* out, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] = convert<T, R>(x[i]);
  }
}

// Moves elements only: T is an unsigned integer of the element's size.
template <typename T>
__global__ void __launch_bounds__(kThreads)
    where_kernel(const uint8_t* c, const T* x, const T* y, T* out, int64_t n, Strided sc,
                 Strided sx, Strided sy) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] = c[sc.at(i)] ? x[sx.at(i)] : y[sy.at(i)];
  }
}

bool packable(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

kiln_status* broadcast_view(const Call& call, const Operand& in, const Operand& out,
                            const char* what, Strided* view) {
  if (in.rank > out.rank) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, std::string(what) + " shape " +
                                                        shape_string(in) + " has more axes than "
                                                        "the output " + shape_string(out));
  }
  int64_t strides[kMaxRank];
  contiguous_strides(in.shape, in.rank, strides);
  view->rank = out.rank;
  const int lead = out.rank - in.rank;
  for (int d = 0; d < out.rank; ++d) {
    view->shape[d] = out.shape[d];
    if (d < lead) {
      view->stride[d] = 0;
      continue;
    }
    const int64_t dim = in.shape[d - lead];
    if (dim != out.shape[d] && dim != 1) {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        std::string(what) + " shape " + shape_string(in) +
                            " does not broadcast to the output " + shape_string(out));
    }
    view->stride[d] = dim == 1 ? 0 : strides[d - lead];
  }
  return nullptr;
}

bool same_shape(const Operand& a, const Operand& b) {
  if (a.rank != b.rank) return false;
  for (int d = 0; d < a.rank; ++d) {
    if (a.shape[d] != b.shape[d]) return false;
  }
  return true;
}

namespace {

kiln_status* binary_body(Call& call, const void* user_data) {
  const int32_t code = static_cast<const KernelInfo*>(user_data)->code;
  if ((code == kMax || code == kMin) && call.num_inputs() == 1) {
    return run_reduction(call, code == kMax ? ReduceCode::kMax : ReduceCode::kMin);
  }
  Operand a, b, out;
  KILN_GPU_CALL_TRY(call.input(0, &a));
  KILN_GPU_CALL_TRY(call.input(1, &b));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  const bool compare = code == kEqual || code == kGreater;
  if (a.dtype != b.dtype) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, std::string("operands have dtypes ") +
                                                        dtype_name(a.dtype) + " and " +
                                                        dtype_name(b.dtype));
  }
  const int32_t want = compare ? KILN_DTYPE_BOOL : a.dtype;
  if (out.dtype != want) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, std::string("output dtype ") +
                                                        dtype_name(out.dtype) + ", expected " +
                                                        dtype_name(want));
  }
  Strided sa, sb;
  KILN_GPU_CALL_TRY(broadcast_view(call, a, out, "input 0", &sa));
  KILN_GPU_CALL_TRY(broadcast_view(call, b, out, "input 1", &sb));
  if (out.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const bool same = same_shape(a, out) && same_shape(b, out);
  const bool packed = packable(a.data) && packable(b.data) && packable(out.data);
  const int64_t n = out.num_elements;
  const unsigned blocks = grid_for(same && packed ? n / 4 + 1 : n, kThreads, call.multiprocessors());
  const bool known = dispatch_all(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      if (compare) {
        binary_strided<bool, bool><<<blocks, kThreads, 0, call.stream()>>>(
            static_cast<const bool*>(a.data), static_cast<const bool*>(b.data),
            static_cast<bool*>(out.data), n, code, sa, sb);
      }
    } else if (compare) {
      if (same) {
        binary_same_shape<T, bool><<<blocks, kThreads, 0, call.stream()>>>(
            static_cast<const T*>(a.data), static_cast<const T*>(b.data),
            static_cast<bool*>(out.data), n, code, false);
      } else {
        binary_strided<T, bool><<<blocks, kThreads, 0, call.stream()>>>(
            static_cast<const T*>(a.data), static_cast<const T*>(b.data),
            static_cast<bool*>(out.data), n, code, sa, sb);
      }
    } else if (same) {
      binary_same_shape<T, T><<<blocks, kThreads, 0, call.stream()>>>(
          static_cast<const T*>(a.data), static_cast<const T*>(b.data), static_cast<T*>(out.data),
          n, code, packed);
    } else {
      binary_strided<T, T><<<blocks, kThreads, 0, call.stream()>>>(
          static_cast<const T*>(a.data), static_cast<const T*>(b.data), static_cast<T*>(out.data),
          n, code, sa, sb);
    }
  });
  if (!known || (a.dtype == KILN_DTYPE_BOOL && !compare)) {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      std::string("no GPU kernel for dtype ") + dtype_name(a.dtype));
  }
  return call.launched("binary elementwise kernel");
}

kiln_status* unary_body(Call& call, const void* user_data) {
  int32_t code = static_cast<const KernelInfo*>(user_data)->code;
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  if (x.dtype != out.dtype || x.num_elements != out.num_elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "output " + shape_string(out) + " " +
                                                        dtype_name(out.dtype) +
                                                        " does not match the input " +
                                                        shape_string(x) + " " + dtype_name(x.dtype));
  }
  if (code == kGelu) {
    std::string mode;
    KILN_GPU_CALL_TRY(call.attr_string("approximate", "none", &mode));
    if (mode == "tanh") {
      code = kGeluTanh;
    } else if (mode != "none") {
      return call.error(KILN_STATUS_INVALID_ARGUMENT,
                        "attribute 'approximate' must be \"none\" or \"tanh\", got \"" + mode + "\"");
    }
  }
  const bool integer = x.dtype == KILN_DTYPE_INT32 || x.dtype == KILN_DTYPE_INT64;
  if (integer && code != kNegate && code != kAbs && code != kRelu) {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      std::string("no GPU kernel for dtype ") + dtype_name(x.dtype));
  }
  if (x.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const bool packed = packable(x.data) && packable(out.data);
  const int64_t n = x.num_elements;
  const unsigned blocks = grid_for(packed ? n / 4 + 1 : n, kThreads, call.multiprocessors());
  const bool known = dispatch_arithmetic(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    unary_kernel<T><<<blocks, kThreads, 0, call.stream()>>>(static_cast<const T*>(x.data),
                                                            static_cast<T*>(out.data), n, code,
                                                            packed);
  });
  if (!known) {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      std::string("no GPU kernel for dtype ") + dtype_name(x.dtype));
  }
  return call.launched("unary elementwise kernel");
}

kiln_status* cast_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  if (x.num_elements != out.num_elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "output " + shape_string(out) + " does not match the input " + shape_string(x));
  }
  if (x.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const unsigned blocks = grid_for(x.num_elements, kThreads, call.multiprocessors());
  bool inner_known = false;
  const bool known = dispatch_all(x.dtype, [&](auto from) {
    using T = decltype(from);
    inner_known = dispatch_all(out.dtype, [&](auto to) {
      using R = decltype(to);
      cast_kernel<T, R><<<blocks, kThreads, 0, call.stream()>>>(
          static_cast<const T*>(x.data), static_cast<R*>(out.data), x.num_elements);
    });
  });
  if (!known || !inner_known) {
    return call.error(KILN_STATUS_UNIMPLEMENTED, std::string("no GPU cast from ") +
                                                     dtype_name(x.dtype) + " to " +
                                                     dtype_name(out.dtype));
  }
  return call.launched("cast kernel");
}

kiln_status* where_body(Call& call, const void*) {
  Operand c, x, y, out;
  KILN_GPU_CALL_TRY(call.input(0, &c));
  KILN_GPU_CALL_TRY(call.input(1, &x));
  KILN_GPU_CALL_TRY(call.input(2, &y));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  if (c.dtype != KILN_DTYPE_BOOL) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("condition must be bool, got ") + dtype_name(c.dtype));
  }
  if (x.dtype != out.dtype || y.dtype != out.dtype) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, std::string("x and y (") + dtype_name(x.dtype) +
                                                        ", " + dtype_name(y.dtype) +
                                                        ") must have the output's dtype " +
                                                        dtype_name(out.dtype));
  }
  Strided sc, sx, sy;
  KILN_GPU_CALL_TRY(broadcast_view(call, c, out, "condition", &sc));
  KILN_GPU_CALL_TRY(broadcast_view(call, x, out, "x", &sx));
  KILN_GPU_CALL_TRY(broadcast_view(call, y, out, "y", &sy));
  if (out.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const unsigned blocks = grid_for(out.num_elements, kThreads, call.multiprocessors());
  const auto* cond = static_cast<const uint8_t*>(c.data);
  switch (dtype_size(out.dtype)) {
#define KILN_GPU_WHERE(bytes, T)                                                                \
  case bytes:                                                                                   \
    where_kernel<T><<<blocks, kThreads, 0, call.stream()>>>(                                    \
        cond, static_cast<const T*>(x.data), static_cast<const T*>(y.data),                     \
        static_cast<T*>(out.data), out.num_elements, sc, sx, sy);                               \
    break;
    KILN_GPU_WHERE(1, uint8_t)
    KILN_GPU_WHERE(2, uint16_t)
    KILN_GPU_WHERE(4, uint32_t)
    KILN_GPU_WHERE(8, uint64_t)
#undef KILN_GPU_WHERE
    default:
      return call.error(KILN_STATUS_UNIMPLEMENTED,
                        std::string("no GPU kernel for dtype ") + dtype_name(out.dtype));
  }
  return call.launched("where kernel");
}

struct Entry {
  const char* op;
  int32_t code;
};
constexpr Entry kBinary[] = {{"add", kAdd}, {"sub", kSub},     {"mul", kMul},
                             {"div", kDiv}, {"pow", kPow},     {"max", kMax},
                             {"min", kMin}, {"equal", kEqual}, {"greater", kGreater}};
constexpr Entry kUnary[] = {{"negate", kNegate}, {"abs", kAbs},   {"relu", kRelu},
                            {"exp", kExp},       {"log", kLog},   {"sqrt", kSqrt},
                            {"rsqrt", kRsqrt},   {"sigmoid", kSigmoid}, {"tanh", kTanh},
                            {"silu", kSilu},     {"gelu", kGelu}};

}  // namespace

kiln_status* register_elementwise_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                          Backend* backend) {
  // Live for the process: the host keeps the user_data pointers.
  static std::vector<KernelInfo>* infos = new std::vector<KernelInfo>();
  infos->reserve(std::size(kBinary) + std::size(kUnary) + 2);
  for (const Entry& e : kBinary) {
    infos->push_back({backend, e.code});
    const auto& types = e.code == kEqual ? kGpuAllTypes : kGpuArithmeticTypes;
    KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, e.op, types, 0,
                                          call_entry<binary_body>, &infos->back()));
  }
  for (const Entry& e : kUnary) {
    infos->push_back({backend, e.code});
    const bool integer_ok = e.code == kNegate || e.code == kAbs || e.code == kRelu;
    KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, e.op,
                                          integer_ok ? kGpuArithmeticTypes : kGpuFloatTypes, 0,
                                          call_entry<unary_body>, &infos->back()));
  }
  infos->push_back({backend, 0});
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "cast", kGpuAllTypes, 0,
                                        call_entry<cast_body>, &infos->back()));
  // Selected by x's dtype (input 1); moves elements only.
  return register_gpu_kernel(host, registrar, "where", kGpuAllTypes, 1, call_entry<where_body>,
                             &infos->back());
}

}  // namespace kiln::gpu
