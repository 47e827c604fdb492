// reduce.cu: sum, mean, max, min, argmax and argmin along one axis (kept with size 1), softmax
// along one axis, and layer_norm over the last axis.
//
// Floats accumulate in float32 (float16/bfloat16 included), integers in wrapping 64-bit
// arithmetic (an integer mean truncates toward zero). max/min propagate NaN; argmax/argmin return
// the first index of the maximum/minimum, a NaN counting as both (as the CPU plugin). A row along
// the last axis is reduced by one block; other axes by one thread per output, reading coalesced
// across the inner axes.
#include <cmath>
#include <string>
#include <type_traits>

#include "dtype.cuh"
#include "kernel_call.h"
#include "kernels.h"

namespace kiln::gpu {
namespace {

constexpr int kThreads = 256;

template <typename T>
using Acc = std::conditional_t<is_integer_type<T>::value, int64_t, float>;

template <typename T>
__device__ inline Acc<T> load(T v) {
  if constexpr (is_integer_type<T>::value) {
    return static_cast<int64_t>(v);
  } else {
    return to_float(v);
  }
}

template <typename A>
__device__ inline bool is_nan(A v) {
  return v != v;
}

// The partial result of one reducer: the value so far and, for argmax, its index.
template <typename A>
struct State {
  A value;
  int64_t index;
};

template <typename A>
__device__ inline State<A> initial(ReduceCode code) {
  if constexpr (std::is_same_v<A, int64_t>) {
    if (code == ReduceCode::kMax || code == ReduceCode::kArgmax) return {INT64_MIN, -1};
    if (code == ReduceCode::kMin || code == ReduceCode::kArgmin) return {INT64_MAX, -1};
    return {0, -1};
  } else {
    if (code == ReduceCode::kMax || code == ReduceCode::kArgmax) return {-INFINITY, -1};
    if (code == ReduceCode::kMin || code == ReduceCode::kArgmin) return {INFINITY, -1};
    return {0.0f, -1};
  }
}

// Combines two partials; the one from the lower index wins ties (first maximum).
template <typename A>
__device__ inline State<A> combine(ReduceCode code, State<A> a, State<A> b) {
  if (code == ReduceCode::kSum || code == ReduceCode::kMean) {
    if constexpr (std::is_same_v<A, int64_t>) {
      return {static_cast<int64_t>(static_cast<uint64_t>(a.value) + static_cast<uint64_t>(b.value)),
              -1};
    } else {
      return {a.value + b.value, -1};
    }
  }
  if (b.index < 0) return a;
  if (a.index < 0) return b;
  const bool a_first = a.index < b.index;
  const bool a_nan = is_nan(a.value);
  const bool b_nan = is_nan(b.value);
  if (a_nan || b_nan) {
    if (a_nan && b_nan) return a_first ? a : b;
    return a_nan ? a : b;
  }
  const bool want_max = code != ReduceCode::kMin && code != ReduceCode::kArgmin;
  if (a.value == b.value) return a_first ? a : b;
  return ((a.value > b.value) == want_max) ? a : b;
}

template <typename T, typename R>
__device__ inline void write(ReduceCode code, State<Acc<T>> s, int64_t length, R* out) {
  if constexpr (std::is_same_v<R, int64_t> || std::is_same_v<R, int32_t>) {
    if (code == ReduceCode::kArgmax || code == ReduceCode::kArgmin) {
      *out = static_cast<R>(s.index < 0 ? 0 : s.index);
      return;
    }
  }
  if constexpr (std::is_same_v<R, T>) {
    if constexpr (is_integer_type<T>::value) {
      *out = static_cast<T>(code == ReduceCode::kMean ? s.value / length : s.value);
    } else {
      *out = from_float<T>(code == ReduceCode::kMean ? s.value / static_cast<float>(length)
                                                     : s.value);
    }
  }
}

template <typename A>
__device__ State<A> block_combine(ReduceCode code, State<A> s) {
  __shared__ A values[kThreads];
  __shared__ int64_t indices[kThreads];
  values[threadIdx.x] = s.value;
  indices[threadIdx.x] = s.index;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      const State<A> mine{values[threadIdx.x], indices[threadIdx.x]};
      const State<A> other{values[threadIdx.x + half], indices[threadIdx.x + half]};
      const State<A> merged = combine(code, mine, other);
      values[threadIdx.x] = merged.value;
      indices[threadIdx.x] = merged.index;
    }
    __syncthreads();
  }
  const State<A> result{values[0], indices[0]};
  __syncthreads();  // the arrays are reused by the next row
  return result;
}

// One block per row of `length` contiguous elements (the reduced axis is the last).
template <typename T, typename R>
__global__ void __launch_bounds__(kThreads)
    reduce_rows(const T* x, R* out, int64_t rows, int64_t length, ReduceCode code) {
  using A = Acc<T>;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* in = x + row * length;
    State<A> s = initial<A>(code);
    for (int64_t i = threadIdx.x; i < length; i += kThreads) {
      s = combine(code, s, State<A>{load(in[i]), i});
    }
    s = block_combine(code, s);
    if (threadIdx.x == 0) write<T, R>(code, s, length, out + row);
  }
}

// One thread per output; the axis has stride `inner`.
template <typename T, typename R>
__global__ void __launch_bounds__(kThreads)
    reduce_columns(const T* x, R* out, int64_t outer, int64_t length, int64_t inner,
                   ReduceCode code) {
  using A = Acc<T>;
  const int64_t total = outer * inner;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < total;
       o += stride) {
    const int64_t b = o / inner;
    const int64_t c = o % inner;
    const T* in = x + b * length * inner + c;
    State<A> s = initial<A>(code);
    for (int64_t i = 0; i < length; ++i) s = combine(code, s, State<A>{load(in[i * inner]), i});
    write<T, R>(code, s, length, out + o);
  }
}

struct Layout {
  int64_t outer = 1;
  int64_t length = 1;
  int64_t inner = 1;
};

template <typename T, typename R>
void launch_reduce(const Call& call, const Layout& l, const void* x, void* out, ReduceCode code) {
  const auto* in = static_cast<const T*>(x);
  auto* o = static_cast<R*>(out);
  if (l.inner == 1) {
    const unsigned blocks =
        static_cast<unsigned>(std::min<int64_t>(l.outer, int64_t{call.multiprocessors()} * 32));
    reduce_rows<T, R><<<blocks, kThreads, 0, call.stream()>>>(in, o, l.outer, l.length, code);
  } else {
    const unsigned blocks = grid_for(l.outer * l.inner, kThreads, call.multiprocessors());
    reduce_columns<T, R>
        <<<blocks, kThreads, 0, call.stream()>>>(in, o, l.outer, l.length, l.inner, code);
  }
}

kiln_status* reduce_layout(const Call& call, const Operand& x, int axis, Layout* l) {
  for (int d = 0; d < axis; ++d) l->outer *= x.shape[d];
  l->length = x.shape[axis];
  for (int d = axis + 1; d < x.rank; ++d) l->inner *= x.shape[d];
  (void)call;
  return nullptr;
}

kiln_status* reduction_body(Call& call, const void* user_data) {
  return run_reduction(call,
                       static_cast<ReduceCode>(static_cast<const KernelInfo*>(user_data)->code));
}

// ---- softmax ----------------------------------------------------------------------------------

template <typename T>
__global__ void __launch_bounds__(kThreads)
    softmax_rows(const T* x, T* out, int64_t rows, int64_t length) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* in = x + row * length;
    T* o = out + row * length;
    State<float> m = initial<float>(ReduceCode::kMax);
    for (int64_t i = threadIdx.x; i < length; i += kThreads) {
      m = combine(ReduceCode::kMax, m, State<float>{to_float(in[i]), i});
    }
    const float max_value = block_combine(ReduceCode::kMax, m).value;
    State<float> s{0.0f, -1};
    for (int64_t i = threadIdx.x; i < length; i += kThreads) {
      s.value += expf(to_float(in[i]) - max_value);
    }
    const float inv = 1.0f / block_combine(ReduceCode::kSum, s).value;
    for (int64_t i = threadIdx.x; i < length; i += kThreads) {
      o[i] = from_float<T>(expf(to_float(in[i]) - max_value) * inv);
    }
  }
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    softmax_columns(const T* x, T* out, int64_t outer, int64_t length, int64_t inner) {
  const int64_t total = outer * inner;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < total;
       o += stride) {
    const int64_t base = (o / inner) * length * inner + o % inner;
    float m = -INFINITY;
    for (int64_t i = 0; i < length; ++i) {
      const float v = to_float(x[base + i * inner]);
      m = (v > m || v != v) ? v : m;
    }
    float sum = 0.0f;
    for (int64_t i = 0; i < length; ++i) sum += expf(to_float(x[base + i * inner]) - m);
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < length; ++i) {
      out[base + i * inner] = from_float<T>(expf(to_float(x[base + i * inner]) - m) * inv);
    }
  }
}

kiln_status* softmax_body(Call& call, const void*) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  if (x.rank < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "input must have rank >= 1");
  if (x.dtype != out.dtype || x.num_elements != out.num_elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "output does not match the input");
  }
  int64_t axis_attr = -1;
  KILN_GPU_CALL_TRY(call.attr_int("axis", -1, &axis_attr));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  Layout l;
  KILN_GPU_CALL_TRY(reduce_layout(call, x, axis, &l));
  if (x.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const bool known = dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const auto* in = static_cast<const T*>(x.data);
    auto* o = static_cast<T*>(out.data);
    if (l.inner == 1) {
      const unsigned blocks =
          static_cast<unsigned>(std::min<int64_t>(l.outer, int64_t{call.multiprocessors()} * 32));
      softmax_rows<T><<<blocks, kThreads, 0, call.stream()>>>(in, o, l.outer, l.length);
    } else {
      const unsigned blocks = grid_for(l.outer * l.inner, kThreads, call.multiprocessors());
      softmax_columns<T><<<blocks, kThreads, 0, call.stream()>>>(in, o, l.outer, l.length, l.inner);
    }
  });
  if (!known) {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      std::string("no GPU kernel for dtype ") + dtype_name(x.dtype));
  }
  return call.launched("softmax kernel");
}

// ---- layer_norm -------------------------------------------------------------------------------

// One block per row: mean, then the variance around it (two passes over the row, held in L1/L2).
template <typename T>
__global__ void __launch_bounds__(kThreads)
    layer_norm_rows(const T* x, const T* gamma, const T* beta, T* out, int64_t rows,
                    int64_t length, float epsilon) {
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* in = x + row * length;
    T* o = out + row * length;
    State<float> s{0.0f, -1};
    for (int64_t i = threadIdx.x; i < length; i += kThreads) s.value += to_float(in[i]);
    const float mean = block_combine(ReduceCode::kSum, s).value / static_cast<float>(length);
    State<float> q{0.0f, -1};
    for (int64_t i = threadIdx.x; i < length; i += kThreads) {
      const float d = to_float(in[i]) - mean;
      q.value += d * d;
    }
    const float variance = block_combine(ReduceCode::kSum, q).value / static_cast<float>(length);
    const float inv = 1.0f / sqrtf(variance + epsilon);
    for (int64_t i = threadIdx.x; i < length; i += kThreads) {
      o[i] = from_float<T>((to_float(in[i]) - mean) * inv * to_float(gamma[i]) +
                           to_float(beta[i]));
    }
  }
}

kiln_status* layer_norm_body(Call& call, const void*) {
  if (call.num_inputs() != 3) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "expects input, gamma and beta");
  }
  Operand x, gamma, beta, y;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.input(1, &gamma));
  KILN_GPU_CALL_TRY(call.input(2, &beta));
  KILN_GPU_CALL_TRY(call.output(0, &y));
  if (x.rank < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "input must have rank >= 1");
  if (gamma.dtype != x.dtype || beta.dtype != x.dtype || y.dtype != x.dtype) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("dtypes differ: input ") + dtype_name(x.dtype) + ", gamma " +
                          dtype_name(gamma.dtype) + ", beta " + dtype_name(beta.dtype) +
                          ", output " + dtype_name(y.dtype));
  }
  const int64_t d = x.shape[x.rank - 1];
  if (gamma.num_elements != d || beta.num_elements != d || y.num_elements != x.num_elements) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "gamma " + shape_string(gamma) + " and beta " +
                                                        shape_string(beta) +
                                                        " must have the last dim of input " +
                                                        shape_string(x));
  }
  double epsilon = 1e-5;
  KILN_GPU_CALL_TRY(call.attr_float("epsilon", 1e-5, &epsilon));
  if (x.num_elements == 0) return nullptr;
  KILN_GPU_CALL_TRY(call.begin());
  const int64_t rows = x.num_elements / d;
  const unsigned blocks =
      static_cast<unsigned>(std::min<int64_t>(rows, int64_t{call.multiprocessors()} * 32));
  const bool known = dispatch_float(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    layer_norm_rows<T><<<blocks, kThreads, 0, call.stream()>>>(
        static_cast<const T*>(x.data), static_cast<const T*>(gamma.data),
        static_cast<const T*>(beta.data), static_cast<T*>(y.data), rows, d,
        static_cast<float>(epsilon));
  });
  if (!known) {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      std::string("no GPU kernel for dtype ") + dtype_name(x.dtype));
  }
  return call.launched("layer_norm kernel");
}

}  // namespace

kiln_status* run_reduction(Call& call, ReduceCode code) {
  Operand x, out;
  KILN_GPU_CALL_TRY(call.input(0, &x));
  KILN_GPU_CALL_TRY(call.output(0, &out));
  if (x.rank < 1) return call.error(KILN_STATUS_INVALID_ARGUMENT, "cannot reduce a rank-0 tensor");
  int64_t axis_attr = -1;
  KILN_GPU_CALL_TRY(call.attr_int("axis", -1, &axis_attr));
  int axis = 0;
  KILN_GPU_CALL_TRY(call.normalize_axis(axis_attr, x.rank, "attribute 'axis'", &axis));
  bool shape_ok = out.rank == x.rank;
  for (int d = 0; shape_ok && d < x.rank; ++d) {
    shape_ok = out.shape[d] == (d == axis ? 1 : x.shape[d]);
  }
  if (!shape_ok) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT, "output shape " + shape_string(out) +
                                                        " does not match input " +
                                                        shape_string(x) + " reduced on axis " +
                                                        std::to_string(axis));
  }
  const bool argmax = code == ReduceCode::kArgmax || code == ReduceCode::kArgmin;
  if (argmax ? out.dtype != KILN_DTYPE_INT64 : out.dtype != x.dtype) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      std::string("output dtype ") + dtype_name(out.dtype) + " is not " +
                          (argmax ? "int64" : dtype_name(x.dtype)));
  }
  Layout l;
  KILN_GPU_CALL_TRY(reduce_layout(call, x, axis, &l));
  if (out.num_elements == 0) return nullptr;
  if (l.length == 0 && code != ReduceCode::kSum && code != ReduceCode::kMean) {
    return call.error(KILN_STATUS_INVALID_ARGUMENT,
                      "cannot take max, min, argmax or argmin of an empty axis");
  }
  KILN_GPU_CALL_TRY(call.begin());
  const bool known = dispatch_arithmetic(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if (argmax) {
      launch_reduce<T, int64_t>(call, l, x.data, out.data, code);
    } else {
      launch_reduce<T, T>(call, l, x.data, out.data, code);
    }
  });
  if (!known) {
    return call.error(KILN_STATUS_UNIMPLEMENTED,
                      std::string("no GPU kernel for dtype ") + dtype_name(x.dtype));
  }
  return call.launched("reduction kernel");
}

kiln_status* register_reduction_kernels(const kiln_host_api* host, kiln_registrar* registrar,
                                        Backend* backend) {
  static std::vector<KernelInfo>* infos = new std::vector<KernelInfo>();
  infos->reserve(5);
  infos->push_back({backend, static_cast<int32_t>(ReduceCode::kSum)});
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "sum", kGpuArithmeticTypes, 0,
                                        call_entry<reduction_body>, &infos->back()));
  infos->push_back({backend, static_cast<int32_t>(ReduceCode::kMean)});
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "mean", kGpuArithmeticTypes, 0,
                                        call_entry<reduction_body>, &infos->back()));
  infos->push_back({backend, static_cast<int32_t>(ReduceCode::kArgmax)});
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "argmax", kGpuArithmeticTypes, 0,
                                        call_entry<reduction_body>, &infos->back()));
  infos->push_back({backend, static_cast<int32_t>(ReduceCode::kArgmin)});
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "argmin", kGpuArithmeticTypes, 0,
                                        call_entry<reduction_body>, &infos->back()));
  infos->push_back({backend, 0});
  KILN_GPU_CALL_TRY(register_gpu_kernel(host, registrar, "softmax", kGpuFloatTypes, 0,
                                        call_entry<softmax_body>, &infos->back()));
  return register_gpu_kernel(host, registrar, "layer_norm", kGpuFloatTypes, 0,
                             call_entry<layer_norm_body>, &infos->back());
}

}  // namespace kiln::gpu
